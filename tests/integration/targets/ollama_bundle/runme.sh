#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Air-gapped model bundles on real servers (ollama_bundle):
#   1. export.yml: both rig models exported from the rig's registry into one bundle; then the registry is
#      STOPPED for the rest of the test (restarted on exit), and a damaged (one flipped byte) and a truncated
#      copy of the bundle are made;
#   2. a FRESH Ollama (the rig's binary, empty models dir, free loopback port; tests/rig/spare_ollama.py);
#   3. import_bad.yml: both damaged bundles fail naming the bad blob, and the server has no model and none of
#      the blobs afterwards;
#   4. predict.yml with --check --diff as a person runs it: the rendered diff names both models with digests,
#      changed=1, and the server still has nothing;
#   5. import.yml for real: digests equal the registry's, re-import changed=0, ollama_model present ok with no
#      registry, both models load and answer (ollama_loaded, /api/generate, /api/embed), blobs already on the
#      server are not sent again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
[ -s "$config" ] || { echo "ollama_bundle: $config is missing: start the rig first (tests/rig/rig.py up)" >&2; exit 1; }
value() { sed -n "s/^$1: *//p" "$config" | tr -d "\"'" | head -n 1; }
fail() { echo "ollama_bundle: FAILED: $*" >&2; exit 1; }

rig_cmd=$(value ollama_rig_cmd)
spare="python ${rig_cmd##* }"
spare=${spare%/rig.py}/spare_ollama.py
work=$(mktemp -d "${TMPDIR:-/tmp}/ollama_bundle.XXXXXX")
started=$(date +%s)
cleanup() {
  local rc=$?
  $spare stop --dir "$work/spare" >/dev/null 2>&1 || true
  $rig_cmd registry-start >/dev/null 2>&1 || echo "ollama_bundle: WARNING: registry-start failed" >&2
  rm -rf "$work"
  echo "ollama_bundle: $(( $(date +%s) - started ))s in all"
  exit "$rc"
}
trap cleanup EXIT
cd "$here"
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
vars=(-i inventory -e "@$config" -e "work=$work")

ansible-playbook "${vars[@]}" export.yml "$@"

spare_url=$($spare start --bin "$(value ollama_bin)" --dir "$work/spare" | python -c 'import json,sys; print(json.load(sys.stdin)["url"])')
echo "ollama_bundle: fresh server $spare_url"
vars+=(-e "spare_url=$spare_url")

ansible-playbook "${vars[@]}" import_bad.yml "$@"

ansible-playbook "${vars[@]}" predict.yml --check --diff "$@" | tee "$work/check.log"
grep -q "Callback dispatch" "$work/check.log" && fail "the callback could not render the diff"
for model in chat embed; do
  name=$(value "ollama_${model}_model")
  digest=$(value "ollama_${model}_digest")
  grep -qxF "+$name@${digest:7:12}" "$work/check.log" || fail "the rendered diff has no line +$name@${digest:7:12}"
done
grep -qE '^localhost +: .*changed=1 .*failed=0' "$work/check.log" || fail "check mode did not predict exactly one change"

ansible-playbook "${vars[@]}" import.yml "$@"

# The role's ollama_url must be the fresh server: an extra var (the config's ollama_url is one too), given last.
ansible-playbook "${vars[@]}" role.yml -e first_run=true -e "ollama_url=$spare_url" "$@"
ansible-playbook "${vars[@]}" role.yml -e "ollama_url=$spare_url" "$@" | tee "$work/role2.log"
grep -qE '^localhost +: .*changed=0 .*failed=0' "$work/role2.log" || fail "the role's second run was not changed=0"
