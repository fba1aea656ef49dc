#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The fleet report (playbook llmops.ollama.report) against several real Ollama servers on loopback: the rig's
# server (a) and two more started by tests/rig/fleet.py from the rig's builds (b: the same version, c: another
# one), all pulling from the rig's registry, with deliberately different state (setup.yml). Asserts the drift the
# Markdown and HTML files mark, the exit status with ollama_report_fail_on_drift, verify figures, a host that does
# not answer, and a run without drift; renders the HTML in headless Chromium (Debian package `chromium`, installed
# here when missing) to a PNG and checks the drift highlight shows in it. Output: <rig state>/../fleet_report/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
if [ ! -s "$config" ]; then
  echo "fleet_report: $config is missing: start the rig first (tests/rig/rig.py up)" >&2
  exit 1
fi
value() { sed -n "s/^$1:[[:space:]]*//p" "$config" | head -n 1 | tr -d "\"'"; }
rig_url=$(value ollama_url)
rig_version=$(value ollama_version)
models_dir=$(value ollama_models_dir)
chat=$(value ollama_chat_model)
embed=$(value ollama_embed_model)
# Another Ollama version the rig has built (CI builds 0.34.4, 0.24.0 and 0.6.5).
other=$(value ollama_release_versions | tr -d '[] ' | tr ',' '\n' | grep -vxF "$rig_version" | sort -V | tail -n 1)
if [ -z "$other" ]; then
  echo "fleet_report: the rig has built no other Ollama version than $rig_version (ollama_release_versions)" >&2
  exit 1
fi
py=$(command -v python3)
out=${LLMOPS_FLEET_REPORT_OUT:-$(dirname "$models_dir")/fleet_report}
work=$(mktemp -d "${TMPDIR:-/tmp}/fleet_report.XXXXXX")
# ansible-test runs a copy of this target without tests/rig/: find fleet.py next to the rig the config names.
fleet=${LLMOPS_RIG_FLEET:-$(dirname "$(value ollama_rig_cmd | awk '{print $NF}')")/fleet.py}
if [ ! -f "$fleet" ]; then
  echo "fleet_report: $fleet not found (set LLMOPS_RIG_FLEET to tests/rig/fleet.py)" >&2
  exit 1
fi
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
cd "$here"

cleanup() {
  local rc=$?
  ansible-playbook -i "$work/inventory" cleanup.yml -e "@$work/vars.yml" >/dev/null 2>&1 || true
  "$py" "$fleet" down --state "$work/fleet" || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

started=$(date +%s)
if ! command -v chromium >/dev/null; then
  echo "fleet_report: installing chromium (Debian package) for the screenshot"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >"$work/apt.log" 2>&1 \
    || { tail -n 20 "$work/apt.log" >&2; echo "fleet_report: apt-get install chromium failed" >&2; exit 1; }
fi

hosts_json=$("$py" "$fleet" up --state "$work/fleet" --host "b=$rig_version" --host "c=$other")
url_of() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])["hosts"][sys.argv[2]]["url"])' "$hosts_json" "$1"; }
closed_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Extra vars win over host vars: the rig's ollama_url must not reach the fleet's hosts.
grep -v '^ollama_url:' "$config" >"$work/vars.yml"
cat >"$work/inventory" <<INV
[fleet]
a ollama_url=$rig_url
b ollama_url=$(url_of b)
c ollama_url=$(url_of c)
[unreachable]
gone ollama_url=http://127.0.0.1:$closed_port
[all:vars]
ansible_connection=local
ansible_python_interpreter={{ ansible_playbook_python }}
INV
cat "$work/inventory"
ansible-playbook -i "$work/inventory" setup.yml -l fleet --skip-tags converge -e "@$work/vars.yml" "$@"

rm -rf "$out"
mkdir -p "$out"
report() {  # report NAME EXPECTED_RC [ansible-playbook options]
  local name=$1 want=$2 rc=0
  shift 2
  ansible-playbook llmops.ollama.report -i "$work/inventory" -e "ollama_report_dir=$out" \
    -e "ollama_report_name=$name" "$@" 2>&1 | tee "$out/$name.log" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "fleet_report: the report run $name ended with status $rc, expected $want" >&2
    exit 1
  fi
}

echo "=== drift: a, b, c and a host that does not answer; verify the loaded models"
report drift 0 -e ollama_report_verify=true
grep -q 'Ollama did not answer' "$out/drift.log"
cat >"$work/expect-drift.json" <<JSON
{"drift_cells": [["$chat", "b", "digest"], ["$embed", "b", "missing"],
                 ["$chat", "gone", "unknown"], ["$embed", "gone", "unknown"]],
 "drift_rows": [["$chat", "digest"], ["$embed", "missing"]],
 "host_drift": [["c", "version"], ["gone", "unreachable"]]}
JSON
"$py" check_html.py "$out/drift.html" "$work/expect-drift.json"
# The Markdown marks the same cells, and the verify figures of a's loaded chat model are in both files.
grep -F "| $chat ⚠ digest |" "$out/drift.md"
grep -F "| $embed ⚠ missing |" "$out/drift.md"
grep -F "| c | $(url_of c) | **⚠ $other** |" "$out/drift.md"
grep -F "$other on c; $rig_version on a, b" "$out/drift.md"
grep -E "^\| a \| $chat \| generate \| [0-9.]+ \| [0-9.]+ \|" "$out/drift.md"
grep -q '<table id="verify">' "$out/drift.html"
grep -E "^\| a \| $chat \| [0-9a-f]{12} \| .* \| 0% \| [0-9?]+ \| 20[0-9]{2}-" "$out/drift.md"

echo "=== screenshot of the HTML report (headless Chromium)"
shot_started=$(date +%s)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1100 \
  --screenshot="$out/fleet-report.png" "file://$out/drift.html" >"$work/chromium.log" 2>&1 \
  || { tail -n 20 "$work/chromium.log" >&2; exit 1; }
test -s "$out/fleet-report.png"
# .drift cells have the background #ffd9d6: the screenshot must show them (several cells' worth of pixels).
"$py" png_colour.py "$out/fleet-report.png" ffd9d6 2000
echo "fleet_report: screenshot in $(( $(date +%s) - shot_started ))s: $out/fleet-report.png"

echo "=== fail on drift: the play fails and says why"
report drift-fail 2 -e ollama_report_fail_on_drift=true -l fleet
grep -q "Drift across 3 hosts: " "$out/drift-fail.log"

echo "=== no drift: b made like a (same version); a has a model loaded and b not, which is not drift"
ansible-playbook -i "$work/inventory" setup.yml -l b --tags converge -e "@$work/vars.yml" "$@"
report same 0 -e ollama_report_fail_on_drift=true -l a,b
echo '{"no_drift": true}' >"$work/expect-same.json"
"$py" check_html.py "$out/same.html" "$work/expect-same.json"
grep -q '^No drift' "$out/same.md"
if grep -qE '\*\*⚠|^- ⚠|⚠ (digest|missing)' "$out/same.md"; then echo "fleet_report: same.md marks drift" >&2; exit 1; fi

echo "fleet_report: passed in $(( $(date +%s) - started ))s; report files in $out"
