#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# integration.sh STAGE PY [ansible-test options...]
# The real-server tier: start the rig (a real Ollama server + local registry), which writes
# tests/integration/integration_config.yml; stage the collection with that file; run
# ansible-test integration --local (the repo .venv, so targets can use its requests/ollama);
# always stop the rig. On success prints the marker line .ci/run looks for:
#   REAL-SERVER-TIER: ran against <url>
set -euo pipefail

stage=${1:?usage: integration.sh STAGE PY [options]}
py=${2:?usage: integration.sh STAGE PY [options]}
shift 2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# Absolute paths: the EXIT trap runs after the cd into the staged copy.
rig=$repo/tests/rig/rig.py
config=tests/integration/integration_config.yml
if [ ! -f "$rig" ]; then
  echo "integration: FAILED: $rig does not exist yet, so the real-server tier cannot run." >&2
  echo "integration: (the test rig starts a real Ollama server + registry and writes $config)" >&2
  exit 1
fi

rig_down() {
  local rc=$?
  echo "integration: stopping the rig ($rig down)"
  python "$rig" down || echo "integration: WARNING: '$rig down' failed" >&2
  exit "$rc"
}
trap rig_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -f "$config"
echo "integration: starting the rig ($rig up)"
python "$rig" up
if [ ! -s "$config" ]; then
  echo "integration: FAILED: '$rig up' succeeded but did not write $config" >&2
  exit 1
fi

"$repo/tools/stage.sh" "$stage"
mkdir -p "$stage/tests/integration"
cp "$repo/$config" "$stage/$config"
if [ -e tests/integration/inventory ]; then
  cp tests/integration/inventory "$stage/tests/integration/inventory"
fi

list=$(cd "$stage" && ansible-test integration --list-targets 2>/dev/null) || list=""
targets=$(printf '%s\n' "$list" | grep -cE '^[A-Za-z0-9_.-]+$') || targets=0
if [ "$targets" -eq 0 ]; then
  echo "integration: FAILED: no integration targets under tests/integration/targets/" >&2
  exit 1
fi

cd "$stage"
ansible-test integration --local --python "$py" "$@"
url=$(sed -n 's/^ollama_url:[[:space:]]*//p' "$stage/$config" | tr -d "\"'" | head -n 1)
echo "REAL-SERVER-TIER: ran against ${url:-the rig server} ($targets targets)"
