#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# make demo: provision localhost with `ansible-playbook llmops.ollama.provision` twice against a real
# Ollama server and a real local registry (the test rig, tests/rig/rig.py), and show that the first run
# changes the host and the second changes nothing. Needs no internet, systemd or GPU.
#   1. make venv (dev tools), tests/rig/rig.py up --fresh --no-verify in a private state dir
#      (tests/output/demo-rig: its own ports, an empty models dir; the test rig is not touched)
#   2. the collection staged under a temp ansible_collections path
#   3. a release archive built from the rig's ollama binary (the air-gapped install path)
#   4. two runs of llmops.ollama.provision; fails if the second run reports changed > 0
#   5. the demo rig is stopped again (always)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

make --no-print-directory venv
export PATH="$repo/.venv/bin:$PATH"

export LLMOPS_RIG_STATE="$repo/tests/output/demo-rig"
export LLMOPS_RIG_INTEGRATION_CONFIG="$LLMOPS_RIG_STATE/integration_config.yml"
demo=$(mktemp -d "${TMPDIR:-/tmp}/llmops-ollama-demo.XXXXXX")

finish() {
  local rc=$?
  echo
  echo "demo: stopping the demo rig"
  python "$repo/tests/rig/rig.py" down >/dev/null 2>&1 || echo "demo: WARNING: rig down failed" >&2
  rm -rf "$demo"
  exit "$rc"
}
trap finish EXIT

echo "demo: starting a real Ollama server and a local registry (tests/rig/rig.py up)"
python tests/rig/rig.py up --fresh --no-verify | grep -E '^\[rig\] (total|ollama|registry)' || true
rig="$LLMOPS_RIG_STATE/rig.json"
[ -s "$rig" ] || { echo "demo: the rig did not write $rig" >&2; exit 1; }
get() { python -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$rig" "$1"; }

echo "demo: staging the collection"
tools/stage.sh "$demo/collections/ansible_collections/llmops/ollama"
export ANSIBLE_COLLECTIONS_PATH="$demo/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

echo "demo: building a local release archive from the rig's ollama binary"
mkdir -p "$demo/src/bin"
cp "$(get ollama_bin)" "$demo/src/bin/ollama"
tar -C "$demo/src" -czf "$demo/ollama-linux-amd64.tgz" bin
sum=$(sha256sum "$demo/ollama-linux-amd64.tgz" | cut -d' ' -f1)

chat=$(get ollama_chat_model)
embed=$(get ollama_embed_model)
cat > "$demo/vars.yml" <<VARS
ollama_hosts: localhost
ollama_provision_become: false
# Install: the air-gapped path (archive from the controller, sha256 verified) into a demo prefix.
ollama_install: true
ollama_version: "$(get ollama_version)"
ollama_archive_src: $demo/ollama-linux-amd64.tgz
ollama_archive_checksum: "sha256:$sum"
ollama_install_dir: $demo/prefix/opt/ollama
ollama_download_dir: $demo/prefix/cache
ollama_binary_link: $demo/prefix/bin/ollama
ollama_install_owner: "$(id -un)"
ollama_install_group: "$(id -gn)"
ollama_user_create: false
ollama_user: "$(id -un)"
ollama_group: "$(id -gn)"
ollama_models_dir: $demo/prefix/models
# Service: the rig's server is already running; a real host would use systemd (the default).
ollama_service_manager: none
ollama_url: "$(get ollama_url)"
# Models from the rig's plain-http registry.
ollama_models_insecure: true
ollama_models:
  - "$chat"
  - "$embed"
ollama_aliases:
  chat: "$chat"
ollama_custom_models:
  - name: ops-assistant
    from: "$chat"
    system: You are a terse assistant for platform engineers. Answer in one sentence.
    parameters:
      num_ctx: 2048
      temperature: 0.2
ollama_warm_models:
  - name: chat
    keep_alive: -1
  - name: "$embed"
    keep_alive: 30m
VARS
printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$repo/.venv/bin/python" > "$demo/inventory"

run() {  # run N
  echo
  echo "demo: run $1: ansible-playbook llmops.ollama.provision"
  ansible-playbook -i "$demo/inventory" llmops.ollama.provision -e "@$demo/vars.yml" > "$demo/run$1.log" 2>&1 \
    || { cat "$demo/run$1.log"; echo "demo: run $1 FAILED" >&2; exit 1; }
  # One line per task that reported a change, named.
  awk '/^TASK \[/ { task = $0; sub(/^TASK \[/, "", task); sub(/\] \*+$/, "", task); shown = 0 }
       /^changed: / && !shown { print "  changed: " task; shown = 1 }' "$demo/run$1.log"
}

run 1
sed -n '/Summarise the Ollama host/,/^$/p' "$demo/run1.log" | sed -n '2,40p'
run 2
echo
echo "demo: PLAY RECAP"
recap1=$(grep -E '^localhost +:' "$demo/run1.log")
recap2=$(grep -E '^localhost +:' "$demo/run2.log")
echo "  run 1: $recap1"
echo "  run 2: $recap2"
changed1=$(sed -n 's/.*changed=\([0-9]*\).*/\1/p' <<<"$recap1")
changed2=$(sed -n 's/.*changed=\([0-9]*\).*/\1/p' <<<"$recap2")
if [ "$changed1" -eq 0 ]; then echo "demo: FAILED: the first run changed nothing" >&2; exit 1; fi
if [ "$changed2" -ne 0 ]; then echo "demo: FAILED: the second run reported changed=$changed2" >&2; exit 1; fi

cat <<EXPLAIN

demo: what was provisioned (first run changed=$changed1, second run changed=0):
  - Ollama $(get ollama_version) unpacked from a checksum-verified local archive into
    $demo/prefix/opt/ollama/<version>, with the stable link $demo/prefix/bin/ollama
  - models pulled from the local registry: $chat, $embed
  - alias chat -> $chat (same digest, no copy of the weights)
  - custom model ops-assistant: system prompt, num_ctx 2048, temperature 0.2
  - chat kept in memory forever (keep_alive -1), the embedding model for 30m
  - second run: every step ok, no pulls, no registry traffic, no reloads
  (the demo prefix and the demo rig are removed again on exit)
EXPLAIN
