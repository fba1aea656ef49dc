#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Live progress on the controller (docs/docsite/rst/progress.rst), as a person sees it, on real servers: two
# inventory hosts, each with its own empty Ollama (started here from the rig's binary), pull the 253 MB model
# through the rig's throttled registry front (tests/rig/throttle.py) at the same time.
#   1. each host prints several increasing progress lines and a last line; progress_log holds the same lines;
#   2. a second run (installed) and an unthrottled model already present on the rig server print none;
#   3. check mode prints none; progress never prints none, and its result equals the progress run's;
#   4. async/poll on the task: Ansible polls, the action plugin stays out of the way, progress_log still works;
#   5. the controller killed in the middle of a pull (a dropped connection): the pull finishes on the host;
#   6. ollama_loaded with progress always prints its load;
#   7. the role with ollama_pull_async: Ansible polls the pulls (no async in check mode), progress_log works;
#   8. HOME set apart from the user's passwd home (a CI job, a service) and the default async_dir: the pull
#      shows its progress and its result (ansible-core's own async_status looks in the passwd home there).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
[ -s "$config" ] || { echo "progress: $config is missing: start the rig first (tests/rig/rig.py up)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/progress.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
cd "$here"
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
export ANSIBLE_ASYNC_DIR="$work/async"  # job and progress files of this test, removed with $work
unset LLMOPS_OLLAMA_PROGRESS LLMOPS_OLLAMA_PROGRESS_INTERVAL
started=$SECONDS

value() { sed -n "s/^$1: *//p" "$config" | tr -d "\"'" | head -n 1; }
fail() { echo "progress: FAILED: $*" >&2; exit 1; }
step() { echo "=== progress: $* ($((SECONDS - started))s)"; }
recap() { sed -n "s/^$1 *: .*$2=\([0-9]*\).*/\1/p" "$3" | tail -n 1; }
api() { python -c 'import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + sys.argv[2], data=(sys.argv[3].encode() if len(sys.argv) > 3 else None),
                             method=("DELETE" if len(sys.argv) > 3 else "GET"))
print(urllib.request.urlopen(req, timeout=30).read().decode())' "$@"; }
has_model() { api "$1" /api/tags | python -c 'import json, sys; sys.exit(0 if any(m["name"] == sys.argv[1] for m in json.load(sys.stdin)["models"]) else 1)' "$2"; }
delete_model() { api "$1" /api/delete "{\"model\": \"$2\"}" >/dev/null; }
changed() { python -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["changed"]))' "$work/$1-$2.json"; }
play() { local label=$1; shift; ansible-playbook -i "$work/inventory" -e "@$config" -e "work=$work label=$label" "$@" 2>&1 | tee "$work/$label.log"; }

throttled=$(value ollama_chat_model_throttled)
present=$(value ollama_chat_model)
[ -n "$throttled" ] || fail "the rig config has no ollama_chat_model_throttled (tests/rig/throttle.py)"

# Two empty Ollama servers of the rig's version, one per inventory host.
declare -A url
for host in gpu-01 gpu-02; do
  port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$work/$host/models" "$work/$host/home"
  OLLAMA_HOST="127.0.0.1:$port" OLLAMA_MODELS="$work/$host/models" HOME="$work/$host/home" \
    NO_PROXY=127.0.0.1,localhost setsid "$(value ollama_bin)" serve >"$work/$host/ollama.log" 2>&1 &
  pids+=("$!")
  url[$host]="http://127.0.0.1:$port"
done
for host in gpu-01 gpu-02; do
  for _ in $(seq 150); do api "${url[$host]}" /api/version >/dev/null 2>&1 && break; sleep 0.2; done
  api "${url[$host]}" /api/version >/dev/null || fail "the Ollama server of $host did not start"
done
cat >"$work/inventory" <<INV
gpu-01 server_url=${url[gpu-01]}
gpu-02 server_url=${url[gpu-02]}
[all:vars]
ansible_connection=local
ansible_python_interpreter="{{ ansible_playbook_python }}"
INV

step "1. a throttled pull on two hosts at once"
play first pull.yml -e "model=$throttled"
python check_lines.py "$work/first.log" 3 gpu-01 gpu-02 \
  --log "gpu-01=$work/gpu-01-progress.log" --log "gpu-02=$work/gpu-02-progress.log"
if [ "$(changed gpu-01 first)" != 1 ] || [ "$(changed gpu-02 first)" != 1 ]; then fail "the pulls did not report changed"; fi
for host in gpu-01 gpu-02; do has_model "${url[$host]}" "$throttled" || fail "$host: the model is not installed"; done

step "2. installed, and an unthrottled model present on the rig server: no progress line"
play second pull.yml -e "model=$throttled"
python check_lines.py "$work/second.log" 0 gpu-01 gpu-02
if [ "$(changed gpu-01 second)" != 0 ] || [ "$(changed gpu-02 second)" != 0 ]; then fail "the second run changed something"; fi
play present pull.yml -e "model=$present server_url=$(value ollama_url)"
python check_lines.py "$work/present.log" 0 gpu-01 gpu-02

step "3. check mode, and progress never: no progress line, the same result"
delete_model "${url[gpu-01]}" "$throttled"
play check pull.yml -e "model=$throttled target_hosts=gpu-01" --check
python check_lines.py "$work/check.log" 0 gpu-01
[ "$(changed gpu-01 check)" = 1 ] || fail "check mode did not predict the pull"
has_model "${url[gpu-01]}" "$throttled" && fail "check mode pulled"
LLMOPS_OLLAMA_PROGRESS=never play never pull.yml -e "model=$throttled target_hosts=gpu-01"
python check_lines.py "$work/never.log" 0 gpu-01
python - "$work/gpu-01-first.json" "$work/gpu-01-never.json" <<'PY'
import json, sys
first, never = (json.load(open(path)) for path in sys.argv[1:])
for result in (first, never):  # what differs between any two pulls
    for entry in result["models"]:
        entry["pull"].pop("seconds"), entry["pull"].pop("progress_lines")
    result["actions"] = [action.split(" (")[0] for action in result["actions"]]
assert first == never, f"the result with progress differs from the one without:\n{first}\n{never}"
print("progress: the result with progress equals the result without (keys and values)")
PY

grep -l "LLMOPS_OLLAMA_PROGRESS_JOB" "$work"/*.json && fail "the action plugin's internal settings show in a result"

step "4. async and poll on the task: Ansible polls, no progress line, progress_log still written"
delete_model "${url[gpu-02]}" "$throttled"
before=$(wc -l <"$work/gpu-02-progress.log")
play async pull.yml -e "model=$throttled target_hosts=gpu-02 async_seconds=600"
python check_lines.py "$work/async.log" 0 gpu-02
grep -q '^ASYNC POLL on gpu-02' "$work/async.log" || fail "Ansible did not poll the async job"
python -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["models"][0]["action"] == "pulled", r' \
  "$work/gpu-02-async.json"
[ "$(wc -l <"$work/gpu-02-progress.log")" -gt "$((before + 2))" ] || fail "no progress_log lines with async"

step "5. the controller dies in the middle of a pull: the pull goes on on the host"
delete_model "${url[gpu-01]}" "$throttled"
# Unbuffered, so the first progress line is in the file when it is printed (not when the buffer is full).
PYTHONUNBUFFERED=1 setsid ansible-playbook -i "$work/inventory" -e "@$config" -e "work=$work label=dropped model=$throttled" \
  -e target_hosts=gpu-01 pull.yml >"$work/dropped.log" 2>&1 &
controller=$!
pids+=("$controller")
for _ in $(seq 300); do grep -q '^gpu-01 | pulling' "$work/dropped.log" && break; sleep 0.2; done
grep -q '^gpu-01 | pulling' "$work/dropped.log" || fail "no progress line before the kill: $(cat "$work/dropped.log")"
kill -KILL -- "-$controller"
wait "$controller" 2>/dev/null || true
has_model "${url[gpu-01]}" "$throttled" && fail "the pull ended before the controller was killed; nothing proven"
for _ in $(seq 120); do has_model "${url[gpu-01]}" "$throttled" && break; sleep 1; done
has_model "${url[gpu-01]}" "$throttled" || fail "the pull did not finish on the host after the controller died"
echo "progress: the pull finished on the host after the controller was killed"
play after-drop pull.yml -e "model=$throttled target_hosts=gpu-01"
[ "$(changed gpu-01 after-drop)" = 0 ] || fail "the run after the drop changed something"

step "6. ollama_loaded with progress always"
play load load.yml -e "model=$throttled target_hosts=gpu-01"
grep -qE '^gpu-01 \| loading .+\(253 MB\)  [0-9]+s$' "$work/load.log" || fail "no load progress line"
grep -qE '^gpu-01 \| loaded .+ in [0-9]+s$' "$work/load.log" || fail "no last load line"
[ "$(recap gpu-01 failed "$work/load.log")" = 0 ] || fail "the load play failed"

step "7. the role: its pulls as async jobs polled by Ansible (and a check run, where async must stay off)"
delete_model "${url[gpu-02]}" "$throttled"
cat >"$work/role-vars.yml" <<YAML
ollama_hosts: gpu-02
ollama_provision_become: false
ollama_install: false
ollama_service_manager: none
ollama_url: ${url[gpu-02]}
ollama_models_insecure: true
ollama_models: ["$throttled"]
ollama_pull_async: 600
ollama_pull_poll: 2
ollama_pull_progress_log: $work/role-progress.log
YAML
role() { ansible-playbook -i "$work/inventory" llmops.ollama.provision -e "@$work/role-vars.yml" "$@" 2>&1; }
role --check | tee "$work/role-check.log"
[ "$(recap gpu-02 failed "$work/role-check.log")" = 0 ] || fail "the role's check run failed"
has_model "${url[gpu-02]}" "$throttled" && fail "the role's check run pulled"
role | tee "$work/role.log"
[ "$(recap gpu-02 failed "$work/role.log")" = 0 ] || fail "the role failed"
grep -q '^ASYNC POLL on gpu-02' "$work/role.log" || fail "the role's pull did not run as an async job"
python check_lines.py "$work/role.log" 0 gpu-02
has_model "${url[gpu-02]}" "$throttled" || fail "the role did not pull the model"
grep -q ' pulled ' "$work/role-progress.log" || fail "no progress_log from the role's async pull"

step "8. HOME apart from the passwd home, default async_dir: progress and the result"
delete_model "${url[gpu-01]}" "$throttled"
mkdir -p "$work/ci-home"
[ "$(python -c 'import os, pwd; print(pwd.getpwuid(os.getuid()).pw_dir)')" != "$work/ci-home" ] || fail "same home"
HOME="$work/ci-home" env -u ANSIBLE_ASYNC_DIR ansible-playbook -i "$work/inventory" -e "@$config" \
  -e "work=$work label=home model=$throttled target_hosts=gpu-01" pull.yml 2>&1 | tee "$work/home.log"
[ "$(recap gpu-01 failed "$work/home.log")" = 0 ] || fail "the pull with HOME apart from the passwd home failed"
python check_lines.py "$work/home.log" 3 gpu-01
[ "$(changed gpu-01 home)" = 1 ] || fail "the pull with HOME apart did not report changed"
has_model "${url[gpu-01]}" "$throttled" || fail "the pull with HOME apart did not install the model"
ls "$work/ci-home/.ansible_async" >/dev/null || fail "the job did not run under \$HOME/.ansible_async"

echo "progress: all checks passed in $((SECONDS - started))s"
