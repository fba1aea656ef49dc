#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ollama_instances (issue 11 item 6), run by runme.sh or on its own (cwd = this directory, ANSIBLE_COLLECTIONS_PATH
# holding llmops.ollama). Two real Ollama servers of the rig's binary on two free loopback ports, each with its
# own models directory (what the role's units would run; ollama_service_manager none: this script starts them),
# managed by one role run through ollama_instances: instance "a" gets the chat model, an alias and the chat model
# warm; instance "b" the embedding model warm. Models are pulled from the rig's registry. Proves: a check run
# predicts exactly the real run's changes and changes nothing, the real run leaves each server with its own models
# and loaded models, the report names both, a second run and a check run report changed=0; the systemd unit and
# drop-in of each instance render (check + diff); invalid lists fail in preflight before anything changes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
if [ ! -s "$config" ]; then
  echo "instances: $config is missing: start the rig first (tests/rig/rig.py up)" >&2
  exit 1
fi
cfg() { sed -n "s/^$1: *//p" "$config" | tr -d "\"'"; }
ollama_bin=$(cfg ollama_bin)
rig_url=$(cfg ollama_url)
chat=$(cfg ollama_chat_model)
embed=$(cfg ollama_embed_model)

work=$(mktemp -d "${TMPDIR:-/tmp}/role_instances.XXXXXX")
pids=()
cleanup() {
  local rc=$? pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
cd "$here"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
# shellcheck source=helpers.sh
. "$here/helpers.sh"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server NAME PORT: ollama serve on 127.0.0.1:PORT with models in $work/NAME/models
start_server() {
  mkdir -p "$work/$1/models" "$work/$1/home"
  OLLAMA_HOST="127.0.0.1:$2" OLLAMA_MODELS="$work/$1/models" HOME="$work/$1/home" \
    NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" \
    "$ollama_bin" serve >"$work/$1.log" 2>&1 &
  pids+=("$!")
  local _
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$2/api/version" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "instances: the server $1 on port $2 did not start:"
  tail -n 20 "$work/$1.log"
  exit 1
}

port_a=$(free_port)
port_b=$(free_port)
while [ "$port_b" = "$port_a" ]; do port_b=$(free_port); done
start_server a "$port_a"
start_server b "$port_b"

# The default server is the rig's (ollama_url), left without managed models; the instances are the two above.
cat >"$work/vars.yml" <<VARS
ollama_hosts: localhost
ollama_provision_become: false
ollama_install: false
ollama_service_manager: none
ollama_url: "$rig_url"
ollama_gpu_report: false
ollama_models_insecure: true
ollama_models_dir: "$work/default-models"
ollama_models_dir_manage: false
ollama_user: "$(id -un)"
ollama_group: "$(id -gn)"
ollama_environment:
  OLLAMA_KEEP_ALIVE: 10m
ollama_instances:
  - name: a
    listen: "127.0.0.1:$port_a"
    models_dir: "$work/a/models"
    environment:
      CUDA_VISIBLE_DEVICES: "0"
    models:
      - "$chat"
    aliases:
      inst-a-chat: "$chat"
    warm_models:
      - name: "$chat"
        keep_alive: 20m
  - name: b
    listen: "127.0.0.1:$port_b"
    models_dir: "$work/b/models"
    environment:
      CUDA_VISIBLE_DEVICES: "1"
      OLLAMA_FLASH_ATTENTION: true
    models:
      - name: "$embed"
    warm_models:
      - name: "$embed"
        keep_alive: 15m
VARS

run_role() {  # run_role NAME [ansible-playbook options]
  local name=$1
  shift
  echo "=== instances: $name"
  ansible-playbook -i inventory provision.yml -e "@$work/vars.yml" "$@" >"$work/$name.log" 2>&1 || true
  grep -E '^localhost +:' "$work/$name.log" || tail -n 40 "$work/$name.log"
  # shellcheck disable=SC2034  # read by expect (helpers.sh)
  read -r changed failed < <(recap "$work/$name.log")
}

# tags NAME PORT: the model names the server has, sorted, one line; running NAME PORT: what it has loaded
tags() { curl -fsS "http://127.0.0.1:$1/api/tags" | python3 -c 'import json, sys; print(" ".join(sorted(m["name"] for m in json.load(sys.stdin)["models"])))'; }
running() { curl -fsS "http://127.0.0.1:$1/api/ps" | python3 -c 'import json, sys; print(" ".join(sorted(m["name"] for m in json.load(sys.stdin)["models"])))'; }
want() {  # want WHAT GOT EXPECTED
  if [ "$2" != "$3" ]; then echo "instances: $1: got '$2', want '$3'"; exit 1; fi
}

# 1. Check mode: predicts the pulls, aliases and loads on both instances, changes nothing.
run_role check1 --check
expect 0 gt 0 "instances: check mode should predict changes"
want "a after check" "$(tags "$port_a")" ""
want "b after check" "$(tags "$port_b")" ""

# 2. Real run: each server gets its own models, alias and warm model.
run_role run1
expect 0 gt 0 "instances: the first run should change"
same_changes "$work/check1.log" "$work/run1.log"
want "models of a" "$(tags "$port_a")" "$chat inst-a-chat:latest"
want "models of b" "$(tags "$port_b")" "$embed"
want "loaded on a" "$(running "$port_a")" "$chat"
want "loaded on b" "$(running "$port_b")" "$embed"
# The report: one summary per instance, naming it, its unit, its URL and its models.
python3 - "$work/run1.log" "$port_a" "$port_b" "$chat" "$embed" <<'PY'
import json, re, sys
log, port_a, port_b, chat, embed = sys.argv[1:]
text = open(log).read()
reports = []
for block in re.findall(r'TASK \[llmops\.ollama\.ollama : Summarise the Ollama host\].*?\nok: \[localhost\] => (\{.*?\n\})', text, re.S):
    reports.append(json.loads(block)["msg"])
by_instance = {r.get("instance", "(default)"): r for r in reports}
assert set(by_instance) == {"(default)", "a", "b"}, sorted(by_instance)
a, b = by_instance["a"], by_instance["b"]
assert a["unit"] == "ollama-a" and a["url"] == f"http://127.0.0.1:{port_a}", a
assert b["unit"] == "ollama-b" and b["url"] == f"http://127.0.0.1:{port_b}", b
assert sorted(m.split(" ")[0] for m in a["models"]) == sorted([chat, "inst-a-chat:latest"]), a["models"]
assert a["aliases"] == [f"inst-a-chat -> {chat}"], a["aliases"]
assert [m.split(" ")[0] for m in b["models"]] == [embed], b["models"]
assert len(a["loaded"]) == 1 and a["loaded"][0].startswith(chat + ":"), a["loaded"]
assert len(b["loaded"]) == 1 and b["loaded"][0].startswith(embed + ":"), b["loaded"]
print("instances: the report lists a (%s) and b (%s)" % (a["url"], b["url"]))
PY

# 3. Second run and a check run: nothing to do.
run_role run2
expect 0 eq 0 "instances: the second run must report changed=0"
run_role check2 --check
expect 0 eq 0 "instances: check mode after a run must report changed=0"

# 4. systemd (rendered only: no systemd here): one unit and one root-only drop-in per instance.
run_role systemd --check --diff -e ollama_service_manager=systemd -e "ollama_systemd_dir=$work/systemd"
expect 0 gt 0 "instances: systemd: the units should be predicted"
grep -qF "+Description=Ollama Service (instance a)" "$work/systemd.log"
grep -qF "+Description=Ollama Service (instance b)" "$work/systemd.log"
grep -qF "\"after_header\": \"$work/systemd/ollama-a.service\"" "$work/systemd.log" || grep -qF "$work/systemd/ollama-a.service" "$work/systemd.log"
grep -qF "+Environment=\"OLLAMA_HOST=127.0.0.1:$port_a\"" "$work/systemd.log"
grep -qF "+Environment=\"OLLAMA_MODELS=$work/b/models\"" "$work/systemd.log"
grep -qF '+Environment="CUDA_VISIBLE_DEVICES=1"' "$work/systemd.log"
grep -qF '+Environment="OLLAMA_FLASH_ATTENTION=1"' "$work/systemd.log"
grep -qF '+Environment="OLLAMA_KEEP_ALIVE=10m"' "$work/systemd.log"
# An ollama-a.service the role did not install is never replaced.
mkdir -p "$work/foreign"
printf '[Service]\nExecStart=/bin/true\n' >"$work/foreign/ollama-a.service"
run_role foreign --check -e ollama_service_manager=systemd -e "ollama_systemd_dir=$work/foreign"
# (check mode: the default server's unit and drop-in before it are predicted as changes, nothing is written)
if [ "$failed" -ne 1 ] || [ -e "$work/foreign/ollama-a.service.d" ]; then echo "instances: a foreign ollama-a.service must stop the run"; exit 1; fi
grep -qF "$work/foreign/ollama-a.service exists and was not installed by this role" "$work/foreign.log"

# 5. Invalid lists fail in preflight, before anything changes, naming what is wrong.
fails() {  # fails NAME MESSAGE JSON: a check run with the JSON extra vars fails with MESSAGE, changing nothing
  run_role "$1" --check -e "$3"
  expect 1 eq 0 "instances: $1 must fail in preflight"
  if ! grep -qF "$2" "$work/$1.log"; then echo "instances: $1: no '$2' in the failure"; exit 1; fi
}
fails dup_name "instance names must be unique: a, a" \
  "{\"ollama_instances\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:$port_a\"}, {\"name\": \"a\", \"listen\": \"127.0.0.1:$port_b\"}]}"
fails dup_port "instance ports must be unique: a $port_a, b $port_a" \
  "{\"ollama_instances\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:$port_a\"}, {\"name\": \"b\", \"listen\": \"0.0.0.0:$port_a\"}]}"
fails bad_name "not: gpu/0" \
  "{\"ollama_instances\": [{\"name\": \"gpu/0\", \"listen\": \"127.0.0.1:$port_a\"}]}"
fails default_port "port 11434 is the port of the default server" \
  '{"ollama_instances": [{"name": "a", "listen": "0.0.0.0:11434"}]}'
fails shared_dir "ollama_models_exclusive needs a models_dir of its own" \
  "{\"ollama_models_exclusive\": true, \"ollama_models\": [\"$chat\"], \"ollama_instances\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:$port_a\", \"models\": [\"$chat\"]}]}"
fails warm_unknown "warm models not in the models or aliases of their instance: $embed" \
  "{\"ollama_instances\": [{\"name\": \"a\", \"listen\": \"127.0.0.1:$port_a\", \"models_dir\": \"$work/a/models\", \"models\": [\"$chat\"], \"warm_models\": [\"$embed\"]}]}"
want "a after the failed runs" "$(tags "$port_a")" "$chat inst-a-chat:latest"
echo "instances: all checks passed"
