#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The playbook llmops.ollama.rolling_update on three real Ollama servers (the rig's, plus two started by
# tests/rig/fleet.py): the registry is retagged so the chat model's tag serves a new manifest, then the rollout
# (one host per batch) updates a, fails verify on b (a threshold no CPU meets) and must stop there: a serves
# the new digest and was drained and undrained, b was drained and stays drained, c was not touched and keeps
# the old digest. The registry tags are restored at the end.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
if [ ! -s "$config" ]; then
  echo "rolling_update: $config is missing: start the rig first (tests/rig/rig.py up)" >&2
  exit 1
fi
value() { sed -n "s/^$1:[[:space:]]*//p" "$config" | head -n 1 | tr -d "\"'"; }
rig_url=$(value ollama_url)
rig_version=$(value ollama_version)
rig_cmd=$(value ollama_rig_cmd)
chat=$(value ollama_chat_model)
old=$(value ollama_chat_digest)
new=$(value ollama_chat_variant_digest)
variant_tag=$(value ollama_chat_variant_tag)
fleet=${LLMOPS_RIG_FLEET:-$(dirname "$(awk '{print $NF}' <<<"$rig_cmd")")/fleet.py}
if [ ! -f "$fleet" ]; then
  echo "rolling_update: $fleet not found (set LLMOPS_RIG_FLEET to tests/rig/fleet.py)" >&2
  exit 1
fi
py=$(command -v python3)
work=$(mktemp -d "${TMPDIR:-/tmp}/rolling_update.XXXXXX")
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
cd "$here"

cleanup() {
  local rc=$?
  $rig_cmd restore >/dev/null 2>&1 || echo "rolling_update: WARNING: '$rig_cmd restore' failed" >&2
  ansible-playbook -i "$work/inventory" cleanup.yml -e "@$work/vars.yml" >/dev/null 2>&1 || true
  "$py" "$fleet" down --state "$work/fleet" || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

started=$(date +%s)
hosts_json=$("$py" "$fleet" up --state "$work/fleet" --host "b=$rig_version" --host "c=$rig_version")
url_of() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])["hosts"][sys.argv[2]]["url"])' "$hosts_json" "$1"; }
grep -v '^ollama_url:' "$config" >"$work/vars.yml"
cat >"$work/inventory" <<INV
a ollama_url=$rig_url
b ollama_url=$(url_of b) ollama_rolling_min_tokens_per_second=100000
c ollama_url=$(url_of c)
[all:vars]
ansible_connection=local
ansible_python_interpreter={{ ansible_playbook_python }}
INV
ansible-playbook -i "$work/inventory" setup.yml -e "@$work/vars.yml" "$@"

digest_on() {  # digest_on HOST: the chat model's manifest digest on that host's server
  local url
  url=$(sed -n "s/^$1 ollama_url=\([^ ]*\).*/\1/p" "$work/inventory")
  "$py" - "$url" "$chat" <<'PY'
import json, sys, urllib.request
url, name = sys.argv[1:3]
tags = json.load(urllib.request.urlopen(url + "/api/tags", timeout=30))["models"]
print(next((m["digest"] for m in tags if m["name"] == name), "missing"))
PY
}
for h in a b c; do
  [ "$(digest_on $h)" = "${old#sha256:}" ] || { echo "rolling_update: $h does not start at the old digest" >&2; exit 1; }
done

echo "=== the registry now serves the variant's manifest under the chat model's tag"
$rig_cmd retag "$variant_tag" "${chat##*:}"

echo "=== rollout, one host per batch; verify fails on b"
rc=0
ansible-playbook llmops.ollama.rolling_update -i "$work/inventory" -e "@$work/vars.yml" \
  -e "ollama_rolling_model=$chat" -e ollama_rolling_insecure=true -e ollama_rolling_verify_tokens=2 \
  -e "ollama_rolling_drain_tasks=$here/drain.yml" -e "ollama_rolling_undrain_tasks=$here/undrain.yml" \
  -e "rolling_marks=$work/marks" "$@" 2>&1 | tee "$work/rollout.log" || rc=$?
[ "$rc" -eq 2 ] || { echo "rolling_update: the rollout ended with status $rc, expected 2 (a failed host)" >&2; exit 1; }
grep -qE "below min_tokens_per_second 100000" "$work/rollout.log"
grep -qE '^a +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0' "$work/rollout.log"
grep -qE '^b +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=1' "$work/rollout.log"
if grep -qE '^c +:' "$work/rollout.log"; then echo "rolling_update: c was reached" >&2; exit 1; fi
[ "$(digest_on a)" = "${new#sha256:}" ] || { echo "rolling_update: a does not serve the new digest" >&2; exit 1; }
[ "$(digest_on b)" = "${new#sha256:}" ] || { echo "rolling_update: b does not hold the new digest" >&2; exit 1; }
[ "$(digest_on c)" = "${old#sha256:}" ] || { echo "rolling_update: c does not keep the old digest" >&2; exit 1; }
printf 'drain a\nundrain a\ndrain b\n' | diff -u - "$work/marks"
grep -q "via /api/generate: first token" "$work/rollout.log"

echo "=== a second rollout pinned to the old digest, without the failing threshold: every host ends on it"
sed -i 's/ ollama_rolling_min_tokens_per_second=100000//' "$work/inventory"
$rig_cmd restore
ansible-playbook llmops.ollama.rolling_update -i "$work/inventory" -e "@$work/vars.yml" \
  -e "ollama_rolling_model=$chat" -e "ollama_rolling_digest=$old" -e ollama_rolling_insecure=true \
  -e ollama_rolling_verify_tokens=2 "$@" 2>&1 | tee "$work/pinned.log"
for h in a b c; do
  [ "$(digest_on $h)" = "${old#sha256:}" ] || { echo "rolling_update: $h is not on the pinned digest" >&2; exit 1; }
done
for h in a b c; do grep -qE "^$h +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0" "$work/pinned.log"; done

echo "rolling_update: passed in $(( $(date +%s) - started ))s"
