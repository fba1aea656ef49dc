#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Role llmops.ollama.ollama against the real rig server (tests/rig/rig.py up): install from a local
# archive of the rig's ollama binary into a temp prefix, service manager none, models pulled from the
# rig registry, an alias, a custom model, warm models. Proves: check mode first predicts and changes
# nothing, the real run changes, the second run and a second check run report changed=0; the
# systemd drop-in renders (check + diff, no systemd here); the warm-at-boot script loads the models;
# secrets stay hidden (security.sh). With ROLE_OLLAMA_PART=install (target role_install) it runs the
# install path instead: upstream's release layout from the rig's mirror (release.sh), disk space (space.sh).
# shellcheck disable=SC2034  # changed and failed are read by expect (helpers.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
if [ ! -s "$config" ]; then
  echo "role_ollama: $config is missing: start the rig first (tests/rig/rig.py up)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/role_ollama.XXXXXX")
cleanup() {
  local rc=$?
  ansible-playbook -i "$here/inventory" "$here/cleanup.yml" -e "@$config" -e "work=$work" >/dev/null 2>&1 \
    || echo "role_ollama: WARNING: cleanup failed" >&2
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

cd "$here"
# The role's templates (warm_script.yml renders the warm-up script): the collection this test runs from.
for dir in ${ANSIBLE_COLLECTIONS_PATH//:/ } "$(echo "$here" | grep -oE '.+/ansible_collections/[^/]+/[^/]+' | sed 's,/ansible_collections/.*,,')"; do
  if [ -f "$dir/ansible_collections/llmops/ollama/roles/ollama/templates/ollama-warm.py.j2" ]; then
    export ROLE_OLLAMA_TEMPLATES="$dir/ansible_collections/llmops/ollama/roles/ollama/templates"
    break
  fi
done
: "${ROLE_OLLAMA_TEMPLATES:?cannot find the llmops.ollama collection (ANSIBLE_COLLECTIONS_PATH)}"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

# recap, expect, changed_tasks, same_changes (also used by instances.sh)
# shellcheck source=helpers.sh
. "$here/helpers.sh"

run_role() {  # run_role NAME [ansible-playbook options]
  local name=$1
  shift
  echo "=== role_ollama: $name"
  ansible-playbook -i inventory provision.yml -e "@$work/role-vars.yml" "$@" 2>&1 | tee "$work/$name.log"
  grep -E '^localhost +:' "$work/$name.log"
}

ollama_bin=$(sed -n 's/^ollama_bin: *//p' "$config" | tr -d "\"'")

# The install path (release mirror, disk space) is the target role_install: its runme.sh runs this script with
# ROLE_OLLAMA_PART=install, so both halves share the helpers above and the cleanup, and each half is its own
# target in the matrix (tools/matrix.py).
if [ "${ROLE_OLLAMA_PART:-core}" = install ]; then
  # 8. The real install path against the rig's release mirror (release.sh).
  # shellcheck source-path=SCRIPTDIR source=release.sh
  source "$here/release.sh"
  # 9. Disk space is checked before pulling (space.sh).
  # shellcheck source-path=SCRIPTDIR source=space.sh
  source "$here/space.sh"
  echo "role_install: all checks passed"
  exit 0
fi

# A local release archive (bin/ollama, the layout of ollama-linux-amd64.tgz) from the rig's binary.
mkdir -p "$work/src/bin"
cp "$ollama_bin" "$work/src/bin/ollama"
tar -C "$work/src" -czf "$work/ollama-linux-amd64.tgz" bin
ansible-playbook -i inventory setup.yml -e "@$config" -e "work=$work" "$@"

# 1. Check mode on a fresh prefix: predicts changes, changes nothing.
run_role check1 --check -v
read -r changed failed < <(recap "$work/check1.log")
expect "0" "gt" "0" "role_ollama: check mode should predict changes"
grep -q 'Create, rebuild or remove custom models' "$work/check1.log"
ansible-playbook -i inventory verify.yml -e "@$config" -e "work=$work" -e phase=after_check "$@"

# 2. Real run.
run_role run1 -v
read -r changed failed < <(recap "$work/run1.log")
expect "0" "gt" "0" "role_ollama: the first run should change"
ansible-playbook -i inventory verify.yml -e "@$config" -e "work=$work" -e phase=after_run "$@"
same_changes "$work/check1.log" "$work/run1.log"
grep -q 'Would unload role-test-stray:latest before deleting role-test-stray:latest' "$work/check1.log"
grep -q 'Unloaded role-test-stray:latest before deleting role-test-stray:latest' "$work/run1.log"

# 3. Second run and a second check run: nothing to do.
run_role run2
read -r changed failed < <(recap "$work/run2.log")
expect "0" "eq" "0" "role_ollama: the second run must report changed=0"
run_role check2 --check
read -r changed failed < <(recap "$work/check2.log")
expect "0" "eq" "0" "role_ollama: check mode after a run must report changed=0"
same_changes "$work/check2.log" "$work/run2.log"

# 3b. ollama_verify, in a play with gather_facts: false (argument validation runs before the role gathers
# facts): after warm-up every warm model serves (one generation, one embedding), the report shows Ollama's
# figures, and neither verifying nor skipping fact gathering is a change.
echo "=== role_ollama: verify (gather_facts: false)"
ansible-playbook -i inventory gather_facts_false.yml -e "@$work/role-vars.yml" -e ollama_verify=true \
  -e ollama_verify_tokens=4 2>&1 | tee "$work/verify.log"
read -r changed failed < <(recap "$work/verify.log")
expect "0" "eq" "0" "role_ollama: a run with ollama_verify and gather_facts: false must report changed=0"
chat_model=$(sed -n 's/^ollama_chat_model: *//p' "$config" | tr -d "\"'")
grep -qE "\"verified $chat_model via /api/generate: first token [0-9.]+ ms, [0-9]+ tokens at [0-9.]+ tokens/s" \
  "$work/verify.log"
grep -qE '"verified [^"]+ via /api/embed: 384 dimensions, ' "$work/verify.log"

# 4. systemd branch (no systemd here): check + diff renders the unit, the drop-in and the warm-up unit.
run_role systemd --check --diff -e ollama_service_manager=systemd -e "ollama_systemd_dir=$work/systemd" \
  -e ollama_warm_on_boot=true -e "ollama_warm_script_path=$work/ollama-warm.py" \
  -e '{"ollama_environment": {"OLLAMA_KEEP_ALIVE": "10m", "OLLAMA_FLASH_ATTENTION": true, "OLLAMA_ORIGINS": "a\"b%c"}}'
grep -qF '+Environment="OLLAMA_FLASH_ATTENTION=1"' "$work/systemd.log"
grep -qF '+Environment="OLLAMA_ORIGINS=a\"b%%c"' "$work/systemd.log"
grep -qF "+Environment=\"OLLAMA_MODELS=$work/prefix/models\"" "$work/systemd.log"
grep -qF '+WantedBy=ollama.service' "$work/systemd.log"
# The sensitive-variable guard (a proxy URL with credentials, a secret in a value): security.sh S1.

# 5. Contradictory variables fail in preflight, before anything changes.
run_role contradiction --check -e '{"ollama_warm_models": ["not-managed:1b"]}' || true
read -r changed failed < <(recap "$work/contradiction.log")
expect "1" "eq" "0" "role_ollama: a warm model outside the managed lists must fail"
grep -q 'Warm models not in ollama_models' "$work/contradiction.log"

# 6. The warm-at-boot script (what ollama-warm.service runs) loads the models on the real server.
ansible-playbook -i inventory warm_script.yml -e "@$config" -e "work=$work" "$@"

# 7. Secret handling of the role and gather_facts: false (issue 9): see security.sh.
# shellcheck source=security.sh
. "$here/security.sh"
# 8 and 9 (install path, disk space): the target role_install.
# 10. Several instances per host (instances.sh): the target role_instances.
echo "role_ollama: all checks passed"
