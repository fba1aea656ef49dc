#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What a person sees with `ansible-playbook --check --diff` and the default callback, on real servers:
#   1. the README's example playbooks, as printed in README.md, against an EMPTY Ollama (a private server
#      started here from the rig's binary): no failure, and every predicted change renders as ---/+++ text;
#   2. all four modules against the rig server: each diff renders, and no callback warning appears;
#   3. the provision playbook (role) against the empty server: check mode runs clean and renders its diffs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
readme=
# The README of the collection this test runs from (ansible-test runs a copy of this target elsewhere).
for dir in ${ANSIBLE_COLLECTIONS_PATH//:/ } "$(echo "$here" | grep -oE '.+/ansible_collections/[^/]+/[^/]+' | sed 's,/ansible_collections/.*,,')"; do
  if [ -f "$dir/ansible_collections/llmops/ollama/README.md" ]; then readme=$dir/ansible_collections/llmops/ollama/README.md; break; fi
done
[ -s "$config" ] || { echo "check_diff: $config is missing: start the rig first (tests/rig/rig.py up)" >&2; exit 1; }
[ -n "$readme" ] || { echo "check_diff: cannot find the collection's README.md (ANSIBLE_COLLECTIONS_PATH)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/check_diff.XXXXXX")
server_pid=
cleanup() {
  local rc=$?
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
cd "$here"
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

value() { sed -n "s/^$1: *//p" "$config" | tr -d "\"'" | head -n 1; }
fail() { echo "check_diff: FAILED: $*" >&2; exit 1; }
recap_failed() { sed -n 's/^localhost *: .*failed=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }
# Every check of a log: no callback warning (a diff the callback cannot render), failed=0.
rendered_clean() {
  if grep -q "Callback dispatch" "$1"; then fail "$1: the callback could not render a diff: $(grep 'Callback dispatch' "$1")"; fi
  [ "$(recap_failed "$1")" = 0 ] || fail "$1: a task failed"
}

# An empty Ollama of the rig's version on a free loopback port.
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
empty_url="http://127.0.0.1:$port"
mkdir -p "$work/models" "$work/home"
OLLAMA_HOST="127.0.0.1:$port" OLLAMA_MODELS="$work/models" HOME="$work/home" NO_PROXY=127.0.0.1,localhost \
  "$(value ollama_bin)" serve >"$work/ollama.log" 2>&1 &
server_pid=$!
python - "$empty_url" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1] + "/api/version", timeout=2).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("the empty ollama server did not answer")
PY

# 1. Every example playbook of the README, as printed, on the empty server: no failure, and every task that
#    check mode predicts as changed renders its diff.
python - "$readme" "$empty_url" "$work" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
          if "module_defaults" in b and "llmops.ollama.ollama_model" in b]
assert len(blocks) >= 2, "expected the five-minute start and the module examples in README.md"
for number, example in enumerate(blocks):
    example = re.sub(r"hosts: \S+", "hosts: localhost", example, count=1)
    example = re.sub(r"url: http://127\.0\.0\.1:11434", "url: " + sys.argv[2], example)
    assert sys.argv[2] in example, "a README example no longer sets url: http://127.0.0.1:11434"
    open(f"{sys.argv[3]}/readme-{number}.yml", "w").write(example)
PY
for example in "$work"/readme-*.yml; do
  log=${example%.yml}.log
  ansible-playbook -i inventory "$example" --check --diff 2>&1 | tee "$log"
  rendered_clean "$log"
  changed=$(grep -c '^changed: \[' "$log" || true)
  diffs=$(grep -c '^+++ after' "$log" || true)
  [ "$changed" -ge 1 ] && [ "$changed" -eq "$diffs" ] \
    || fail "$example: $changed tasks predicted a change but $diffs diffs were rendered"
done
cat "$work"/readme-*.log > "$work/readme.log"
grep -qE '^\+qwen2\.5:7b@unknown$' "$work/readme.log" || fail "README example: no rendered pull diff for qwen2.5:7b"
grep -qE '^\+nomic-embed-text:latest@unknown$' "$work/readme.log" || fail "README example: no rendered pull diff"
grep -qE '^\+chat:latest -> qwen2\.5:7b@unknown \(not installed yet\)$' "$work/readme.log" \
  || fail "README example: no rendered alias diff"
grep -qE '^\+chat:latest \(forever\)$' "$work/readme.log" || fail "README example: no rendered load diff for chat"
grep -qE '^\+gemma3:270m$' "$work/readme.log" || fail "README five-minute start: no rendered load diff"
grep -q 'predicted' "$work/readme.log" || fail "README example: no warning about predicted dependencies"

# 2. All four modules against the rig server.
ansible-playbook -i inventory modules.yml -e "@$config" --check --diff 2>&1 | tee "$work/modules.log"
rendered_clean "$work/modules.log"
grep -qE "^\+$(value ollama_registry)/library/gemma3:270m-variant@[0-9a-f]{12}$" "$work/modules.log" \
  || fail "ollama_model: no rendered diff with the registry's digest"
grep -qE '^\+it-check-diff-alias:latest -> .*@[0-9a-f]{12}$' "$work/modules.log" || fail "ollama_alias: no rendered diff"
grep -qE "^\+$(value ollama_chat_model) \(forever\)$" "$work/modules.log" || fail "ollama_loaded: no rendered diff"
grep -qE '^--- .*/api/ps$' "$work/modules.log" || fail "ollama_loaded: no diff header naming /api/ps"

# 3. The role (provision playbook) against the empty server, check mode with diff.
cat >"$work/role-vars.yml" <<YAML
ollama_hosts: localhost
ollama_provision_become: false
ollama_install: false
ollama_service_manager: none
ollama_url: $empty_url
ollama_models: [qwen2.5:7b, nomic-embed-text]
ollama_models_exclusive: true
ollama_aliases: {chat: "qwen2.5:7b"}
ollama_custom_models:
  - {name: ops-assistant, from: "qwen2.5:7b", system: "Answer briefly.", parameters: {num_ctx: 16384}}
ollama_warm_models: [{name: chat, keep_alive: -1}]
YAML
ansible-playbook -i inventory llmops.ollama.provision -e "@$work/role-vars.yml" --check --diff 2>&1 | tee "$work/role.log"
rendered_clean "$work/role.log"
grep -qE '^\+qwen2\.5:7b@unknown$' "$work/role.log" || fail "role: no rendered pull diff"
grep -qE '^\+ops-assistant:latest@unknown$' "$work/role.log" || fail "role: no rendered create diff"
# Nothing was changed on the empty server by any of the check runs.
python - "$empty_url" <<'PY'
import json, sys, urllib.request
tags = json.load(urllib.request.urlopen(sys.argv[1] + "/api/tags"))["models"]
ps = json.load(urllib.request.urlopen(sys.argv[1] + "/api/ps"))["models"]
assert tags == [] and ps == [], (tags, ps)
PY
echo "check_diff: all checks passed"
