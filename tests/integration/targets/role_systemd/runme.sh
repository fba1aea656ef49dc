#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The provision playbook over real SSH with become against two real systemd hosts (rig.py hosts-up: systemd as
# PID 1 in its own namespaces on a cached Debian root; docs/testing-rig.md). sd1 gets the role's own unit, sd2
# the vendor unit Ollama's install.sh writes (left alone, the role adds its drop-in). Proves:
#   S1 the first run installs from the rig's release mirror, starts the service as the ollama user, pulls the
#      models through the rig's registry and loads the warm model; the second run and a check run: changed=0;
#   S2 one ollama_environment change: check mode predicts the real run's changed count, the real run restarts
#      ollama.service exactly once per host and the new value reaches the process; the next run changes nothing;
#   S3 reboot (stop + start of sd1's PID 1): ollama.service comes back enabled and ollama-warm.service loads the
#      warm model with its keep_alive, with no play running;
#   S4 upgrade on sd1 (check mode predicts it): the service restarts into the new release, /api/version
#      reports it; rollback to the old one (no download, it is still installed);
#   S5 a second server on sd2 (ollama_instances): check mode predicts its unit, drop-in and start; the real run
#      starts ollama-gpu1.service as the ollama user on its own port beside the default server (not restarted),
#      pulls and warms its model through it; the next run and a check run: changed=0; dropped from the list, it
#      is stopped, disabled and its files removed (check mode predicts the same count), the default server stays.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
if [ ! -s "$config" ]; then
  echo "role_systemd: $config is missing: start the rig first (tests/rig/rig.py up)" >&2
  exit 1
fi
cfg() { sed -n "s/^$1: *//p" "$config" | sed 's/^"\(.*\)"$/\1/'; }
rig=$(cfg ollama_rig_cmd)
mirror=$(cfg ollama_release_mirror)
mirror_log=$(cfg ollama_release_mirror_log)
chat=$(cfg ollama_chat_model)
embed=$(cfg ollama_embed_model)
read -r -a versions < <(cfg ollama_release_versions | tr -d '[]",')
: "${rig:?no ollama_rig_cmd in $config}" "${mirror:?no ollama_release_mirror in $config}"
if [ "${#versions[@]}" -lt 2 ]; then
  echo "role_systemd: the release mirror has ${versions[*]:-no version}; the upgrade needs two." >&2
  echo "role_systemd: build one more first: tests/rig/rig.py --ollama-version 0.24.0 build; rig.py up" >&2
  exit 1
fi
new=${versions[${#versions[@]}-1]}
old=${versions[${#versions[@]}-2]}
echo "=== role_systemd: release mirror $mirror: install $old, upgrade to $new"

work=$(mktemp -d "${TMPDIR:-/tmp}/role_systemd.XXXXXX")
cleanup() {
  local rc=$?
  $rig hosts-down || { echo "role_systemd: WARNING: hosts-down failed" >&2; rc=1; }
  if [ "$rc" -ne 0 ]; then echo "role_systemd: logs kept in $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
cd "$here"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

t0=$SECONDS
$rig hosts-up --fresh --count 2 --inventory "$work/inventory.ini"
echo "=== role_systemd: hosts up in $((SECONDS - t0))s"
inv=$work/inventory.ini
port() { sed -n "s/^$1 .*ollama_listen=127.0.0.1:\([0-9]*\).*/\1/p" "$inv"; }
url() { echo "http://127.0.0.1:$(port "$1")"; }
on() { local h=$1; shift; $rig hosts exec "$h" "$@"; }
fail() { echo "role_systemd: $*" >&2; exit 1; }
want() { local msg=$1; shift; "$@" || fail "$msg"; }
starts() {  # starts HOST [UNIT]: how many times systemd started the unit (default ollama.service) in all
  local unit=${2:-ollama.service}
  on "$1" journalctl -u "$unit" -o cat --no-pager | grep -c "^Started $unit" || true
}

# sd2: the vendor unit, as install.sh leaves it (unit written, daemon-reload; no binary yet).
on sd2 sh -c 'cat >/etc/systemd/system/ollama.service' <"$here/vendor-ollama.service"
on sd2 systemctl daemon-reload
vendor_sum=$(on sd2 sha256sum /etc/systemd/system/ollama.service)

cat >"$work/vars.yml" <<VARS
ollama_hosts: systemd_hosts
ollama_release_base_url: "$mirror"
ollama_version: "$old"
ollama_models:
  - "$chat"
  - "$embed"
ollama_models_insecure: true
ollama_warm_models:
  - "$chat"
ollama_warm_keep_alive: 45m
ollama_warm_on_boot: true
ollama_gpu_report: false
ollama_environment:
  OLLAMA_NUM_PARALLEL: "1"
VARS

recap() {  # recap LOG HOST...: sum of changed=, sum of failed=/unreachable= over the hosts
  local log=$1 c=0 f=0 h line
  shift
  for h in "$@"; do
    line=$(grep -E "^$h +:" "$log" | tail -n 1)
    [ -n "$line" ] || { echo "0 1"; return; }
    c=$((c + $(sed -n 's/.*changed=\([0-9]*\).*/\1/p' <<<"$line")))
    f=$((f + $(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line") + $(sed -n 's/.*unreachable=\([0-9]*\).*/\1/p' <<<"$line")))
  done
  echo "$c $f"
}
changed=0
run() {  # run NAME [ansible-playbook options]: the provision playbook; sets $changed (both hosts, or -l's)
  local name=$1 t=$SECONDS failed hosts=(sd1 sd2)
  shift
  [[ " $* " == *" -l sd1 "* ]] && hosts=(sd1)
  [[ " $* " == *" -l sd2 "* ]] && hosts=(sd2)
  ansible-playbook -i "$inv" provision.yml -e "@$work/vars.yml" "$@" >"$work/$name.log" 2>&1 || true
  read -r changed failed < <(recap "$work/$name.log" "${hosts[@]}")
  echo "=== role_systemd: $name: changed=$changed failed=$failed ($((SECONDS - t))s)"
  grep -E '^sd[12] +:' "$work/$name.log" || true
  if [ "$failed" -ne 0 ]; then
    grep -E -A 12 '^(fatal|failed):' "$work/$name.log" | head -n 60 >&2 || tail -n 40 "$work/$name.log" >&2
    fail "$name failed"
  fi
}

# --- S1: install, second run, check run --------------------------------------------------------------------
run run1 -v
want "the first run should change" [ "$changed" -gt 0 ]
for h in sd1 sd2; do
  want "$h: ollama.service is not enabled" [ "$(on $h systemctl is-enabled ollama.service)" = enabled ]
  want "$h: ollama.service is not active" [ "$(on $h systemctl is-active ollama.service)" = active ]
  want "$h: ollama-warm.service is not enabled" [ "$(on $h systemctl is-enabled ollama-warm.service)" = enabled ]
  want "$h: /api/version is not $old" [ "$(python3 api.py version "$(url $h)")" = "$old" ]
  python3 api.py tags "$(url $h)" >"$work/tags"
  want "$h: $chat not installed" grep -qxF "$chat" "$work/tags"
  want "$h: $embed not installed" grep -qxF "$embed" "$work/tags"
  want "$h: the warm model is not loaded with keep_alive 45m" python3 api.py warm "$(url $h)" "$chat" 2700 0
  pid=$(on $h systemctl show -p MainPID --value ollama.service)
  want "$h: ollama does not run as the ollama user" [ "$(on $h stat -c %U "/proc/$pid")" = ollama ]
  want "$h: the models are not owned by ollama" \
    [ "$(on $h stat -c %U:%G /usr/share/ollama/.ollama/models/blobs)" = ollama:ollama ]
  want "$h: the drop-in is not root 0600" \
    [ "$(on $h stat -c %U:%a /etc/systemd/system/ollama.service.d/override.conf)" = root:600 ]
  want "$h: ollama was started $(starts $h) times, expected once" [ "$(starts $h)" -eq 1 ]
done
want "sd1: no role unit" on sd1 grep -q 'Managed by the llmops.ollama.ollama role' /etc/systemd/system/ollama.service
want "sd2: the role changed the vendor unit" [ "$(on sd2 sha256sum /etc/systemd/system/ollama.service)" = "$vendor_sum" ]
want "the archive of $old did not come from the mirror" grep -q "GET /v$old/" "$mirror_log"

run run2
want "the second run must report changed=0" [ "$changed" -eq 0 ]
run check2 --check
want "a check run after the run must report changed=0" [ "$changed" -eq 0 ]
for h in sd1 sd2; do want "$h: a run with nothing to do restarted ollama" [ "$(starts $h)" -eq 1 ]; done

# --- S2: one ollama_environment change: one restart, predicted by check mode ---------------------------------
sed -i 's/OLLAMA_NUM_PARALLEL: "1"/OLLAMA_NUM_PARALLEL: "2"/' "$work/vars.yml"
run env_check --check --diff
predicted=$changed
want "check mode should predict the environment change" [ "$predicted" -gt 0 ]
grep -qF '+Environment="OLLAMA_NUM_PARALLEL=2"' "$work/env_check.log" || fail "env_check: no drop-in diff"
for h in sd1 sd2; do want "$h: check mode restarted ollama" [ "$(starts $h)" -eq 1 ]; done
run env_run
want "check mode predicted changed=$predicted, the real run changed=$changed" [ "$changed" -eq "$predicted" ]
for h in sd1 sd2; do
  want "$h: ollama was started $(starts $h) times in all, expected 2 (one restart)" [ "$(starts $h)" -eq 2 ]
  pid=$(on $h systemctl show -p MainPID --value ollama.service)
  want "$h: the new environment did not reach the process" \
    on $h sh -c "tr '\\0' '\\n' </proc/$pid/environ | grep -qx OLLAMA_NUM_PARALLEL=2"
  want "$h: the warm model is not loaded after the restart" python3 api.py warm "$(url $h)" "$chat" 2700 0
done
run env_run2
want "the run after the environment change must report changed=0" [ "$changed" -eq 0 ]
for h in sd1 sd2; do want "$h: the second run restarted ollama" [ "$(starts $h)" -eq 2 ]; done

# --- S3: reboot sd1; the service and the warm-at-boot unit come back with no play running -------------------
t=$SECONDS
$rig hosts stop sd1
if python3 api.py version "$(url sd1)" >/dev/null 2>&1; then fail "sd1's API still answers after the stop"; fi
$rig hosts start sd1
want "sd1: after the reboot the warm model is not loaded with keep_alive 45m" \
  python3 api.py warm "$(url sd1)" "$chat" 2700 120
want "sd1: ollama.service is not enabled after the reboot" [ "$(on sd1 systemctl is-enabled ollama.service)" = enabled ]
want "sd1: ollama.service is not active after the reboot" [ "$(on sd1 systemctl is-active ollama.service)" = active ]
want "sd1: ollama-warm.service did not succeed" \
  [ "$(on sd1 systemctl show -p Result --value ollama-warm.service)" = success ]
want "sd1: ollama-warm.service never ran in this boot" \
  [ "$(on sd1 systemctl show -p ExecMainExitTimestampMonotonic --value ollama-warm.service)" -gt 0 ]
want "sd1: /api/version is not $old after the reboot" [ "$(python3 api.py version "$(url sd1)")" = "$old" ]
echo "=== role_systemd: reboot of sd1 and warm-up in $((SECONDS - t))s"

# --- S4: upgrade and rollback on sd1 ------------------------------------------------------------------------
n=$(starts sd1)
run upgrade_check --check -l sd1 -e "ollama_version=$new"
predicted=$changed
want "check mode should predict the upgrade" [ "$predicted" -gt 0 ]
want "check mode upgraded" [ "$(python3 api.py version "$(url sd1)")" = "$old" ]
run upgrade -l sd1 -e "ollama_version=$new"
want "check mode predicted changed=$predicted, the upgrade changed=$changed" [ "$changed" -eq "$predicted" ]
want "sd1: /api/version is not $new after the upgrade" [ "$(python3 api.py version "$(url sd1)")" = "$new" ]
want "sd1: the upgrade restarted ollama $(( $(starts sd1) - n )) times, expected once" [ "$(starts sd1)" -eq $((n + 1)) ]
want "sd1: the warm model is not loaded after the upgrade" python3 api.py warm "$(url sd1)" "$chat" 2700 0
want "sd2 was touched by a run limited to sd1" [ "$(python3 api.py version "$(url sd2)")" = "$old" ]
lines=$(wc -l <"$mirror_log")
run rollback -l sd1 -e "ollama_version=$old"
want "the rollback should change" [ "$changed" -gt 0 ]
want "sd1: /api/version is not $old after the rollback" [ "$(python3 api.py version "$(url sd1)")" = "$old" ]
want "the rollback downloaded again" [ "$(wc -l <"$mirror_log")" -eq "$lines" ]
want "sd1: the warm model is not loaded after the rollback" python3 api.py warm "$(url sd1)" "$chat" 2700 0

# --- S5: a second server on sd2 (ollama_instances), under real systemd -----------------------------------------
iport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
iurl=http://127.0.0.1:$iport
unit=ollama-gpu1.service
cp "$work/vars.yml" "$work/vars-no-instance.yml"
cat >>"$work/vars.yml" <<VARS
ollama_instances:
  - name: gpu1
    listen: 127.0.0.1:$iport
    environment:
      OLLAMA_NUM_PARALLEL: "1"
    models:
      - "$embed"
    warm_models:
      - "$embed"
VARS
n=$(starts sd2)
run instance_check --check --diff -l sd2
predicted=$changed
want "check mode should predict the instance" [ "$predicted" -gt 0 ]
grep -qF "$unit would be enabled and started" "$work/instance_check.log" || fail "instance_check: no start predicted"
want "check mode installed $unit" on sd2 test ! -e "/etc/systemd/system/$unit"
run instance -l sd2
# Check mode cannot ask a server that does not run yet about models (the role warns and skips them): the real
# run adds the instance's pull and warm-up to what check mode predicted.
grep -qF "does not answer yet" "$work/instance_check.log" || fail "instance_check: no warning about the models"
want "the instance run changed $changed tasks, check mode predicted $predicted (+ its pull and warm-up)" \
  [ "$changed" -ge "$predicted" ]
want "sd2: $unit is not enabled" [ "$(on sd2 systemctl is-enabled $unit)" = enabled ]
want "sd2: $unit is not active" [ "$(on sd2 systemctl is-active $unit)" = active ]
want "sd2: $unit was started $(starts sd2 $unit) times, expected once" [ "$(starts sd2 $unit)" -eq 1 ]
want "sd2: the instance does not answer with $old" [ "$(python3 api.py version "$iurl")" = "$old" ]
python3 api.py tags "$iurl" >"$work/tags"
want "sd2: $embed not installed through the instance" grep -qxF "$embed" "$work/tags"
want "sd2: the instance did not warm $embed with keep_alive 45m" python3 api.py warm "$iurl" "$embed" 2700 0
pid=$(on sd2 systemctl show -p MainPID --value $unit)
want "sd2: the instance does not run as the ollama user" [ "$(on sd2 stat -c %U "/proc/$pid")" = ollama ]
want "sd2: the instance does not listen on $iport" \
  on sd2 sh -c "tr '\\0' '\\n' </proc/$pid/environ | grep -qx OLLAMA_HOST=127.0.0.1:$iport"
want "sd2: the instance's drop-in is not root 0600" \
  [ "$(on sd2 stat -c %U:%a /etc/systemd/system/$unit.d/override.conf)" = root:600 ]
want "sd2: adding an instance restarted the default server" [ "$(starts sd2)" -eq "$n" ]
want "sd2: the default server stopped answering" [ "$(python3 api.py version "$(url sd2)")" = "$old" ]
run instance2 -l sd2
want "the run after adding the instance must report changed=0" [ "$changed" -eq 0 ]
run instance_check2 --check -l sd2
want "a check run after adding the instance must report changed=0" [ "$changed" -eq 0 ]
want "sd2: a run with nothing to do restarted $unit" [ "$(starts sd2 $unit)" -eq 1 ]
# Dropped from the list: stopped, disabled, unit and drop-in removed; check mode predicts the same count.
cp "$work/vars-no-instance.yml" "$work/vars.yml"
run instance_drop_check --check -l sd2
predicted=$changed
want "check mode should predict the removal" [ "$predicted" -gt 0 ]
want "check mode stopped $unit" [ "$(on sd2 systemctl is-active $unit)" = active ]
run instance_drop -l sd2
want "check mode predicted changed=$predicted, the removal changed=$changed" [ "$changed" -eq "$predicted" ]
want "sd2: $unit still runs" [ "$(on sd2 systemctl is-active $unit || true)" != active ]
want "sd2: $unit is still installed" on sd2 test ! -e "/etc/systemd/system/$unit"
want "sd2: the drop-in of $unit is still there" on sd2 test ! -e "/etc/systemd/system/$unit.d"
if python3 api.py version "$iurl" >/dev/null 2>&1; then fail "sd2: the removed instance still answers"; fi
want "sd2: removing the instance restarted the default server" [ "$(starts sd2)" -eq "$n" ]
want "sd2: the default server stopped answering" [ "$(python3 api.py version "$(url sd2)")" = "$old" ]
run instance_drop2 -l sd2
want "the run after the removal must report changed=0" [ "$changed" -eq 0 ]
echo "role_systemd: all checks passed ($((SECONDS - t0))s)"
