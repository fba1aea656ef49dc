# shellcheck shell=bash disable=SC2154,SC2034  # sourced by runme.sh with ROLE_OLLAMA_PART=install (target role_install): config, work, ollama_bin, changed, failed live there
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by runme.sh (uses its recap, expect, $work, $config). The install path against the rig's release
# mirror (tests/rig/release_mirror.py: upstream's file names, formats and sha256sum.txt, built from the rig's
# real Ollama binaries), with the role's DEFAULT URL templates and only ollama_release_base_url changed:
# old-format (.tgz) install, upgrade to the newest (.tar.zst) with the rocm add-on, second run and check run
# changed=0, downgrade without a download, prune, controller cache (then offline), proxy, a wrong checksum,
# ollama_state absent. The installed binary's own --version proves which release the link runs.

mirror=$(sed -n 's/^ollama_release_mirror: *//p' "$config" | tr -d "\"'")
mirror_log=$(sed -n 's/^ollama_release_mirror_log: *//p' "$config" | tr -d "\"'")
read -r -a versions < <(sed -n 's/^ollama_release_versions: *//p' "$config" | tr -d '[]",' )
: "${mirror:?role_ollama: the rig config has no ollama_release_mirror (tests/rig/release_mirror.py)}"
[ "${#versions[@]}" -gt 0 ] || { echo "role_ollama: the release mirror has no versions"; exit 1; }
old=${versions[0]}
new=${versions[${#versions[@]}-1]}
echo "=== role_ollama: release mirror $mirror with ${versions[*]} (old $old, new $new)"
rel=$work/rel
group=$(id -gn)
cat >"$work/release-vars.yml" <<VARS
ollama_hosts: localhost
ollama_provision_become: false
ollama_release_base_url: "$mirror"
ollama_install_dir: "$rel/opt/ollama"
ollama_download_dir: "$rel/cache"
ollama_binary_link: "$rel/bin/ollama"
ollama_install_owner: "$(id -un)"
ollama_install_group: "$group"
ollama_user_create: false
ollama_user: "$(id -un)"
ollama_group: "$group"
ollama_models_dir: "$rel/models"
ollama_warm_script_path: "$rel/ollama-warm.py"
ollama_service_manager: none
ollama_url: "$(sed -n 's/^ollama_url: *//p' "$config" | tr -d "\"'")"
ollama_gpu_report: false
VARS

run_rel() {  # run_rel NAME [ansible-playbook options]: the provision playbook with the release variables
  local name=$1
  shift
  echo "=== role_ollama: release: $name"
  ansible-playbook -i inventory provision.yml -e "@$work/release-vars.yml" "$@" >"$work/$name.log" 2>&1 || true
  grep -E '^localhost +:' "$work/$name.log" || tail -n 30 "$work/$name.log"
  read -r changed failed < <(recap "$work/$name.log")
}

bin_version() {  # the version the installed binary reports about itself (no server on that port)
  OLLAMA_HOST=127.0.0.1:9 "$rel/bin/ollama" --version 2>&1 | sed -n 's/.*client version is \([^ ]*\).*/\1/p;s/^ollama version is \([^ ]*\).*/\1/p' | head -n 1
}

want() {  # want MESSAGE COMMAND...: fail with MESSAGE unless COMMAND succeeds
  local msg=$1
  shift
  if ! "$@"; then echo "role_ollama: release: $msg"; exit 1; fi
}

gets() { grep -c "\"GET /v$1/$2 " "$mirror_log" || true; }

fmt() { if [ "$(printf '%s\n0.14.0\n' "$1" | sort -V | head -n 1)" = "0.14.0" ]; then echo tar.zst; else echo tgz; fi; }

# R1. The oldest release (.tgz when it predates 0.14.0), default URL template.
before=$(gets "$old" "ollama-linux-amd64.$(fmt "$old")")
run_rel rel_old -e "ollama_version=$old"
expect 0 gt 0 "role_ollama: release: installing $old should change"
want "$old was not downloaded as ollama-linux-amd64.$(fmt "$old")" [ "$(gets "$old" "ollama-linux-amd64.$(fmt "$old")")" -gt "$before" ]
want "the link runs $(bin_version), expected $old" [ "$(bin_version)" = "$old" ]

if [ "$old" != "$new" ]; then
  # R2. Check mode predicts the upgrade and changes nothing.
  run_rel rel_new_check --check -e "ollama_version=$new" -e '{"ollama_gpu_bundles": ["rocm"]}'
  expect 0 gt 0 "role_ollama: release: check mode should predict the upgrade"
  want "check mode changed the link" [ "$(bin_version)" = "$old" ]
  want "check mode created $rel/opt/ollama/$new" [ ! -e "$rel/opt/ollama/$new" ]

  # R3. Upgrade to the newest (.tar.zst from 0.14.0) with the rocm add-on, unpacked into the same directory.
  run_rel rel_new -e "ollama_version=$new" -e '{"ollama_gpu_bundles": ["rocm"]}'
  expect 0 gt 0 "role_ollama: release: the upgrade should change"
  want "the link runs $(bin_version), expected $new" [ "$(bin_version)" = "$new" ]
  want "$new was not downloaded as ollama-linux-amd64.$(fmt "$new")" [ "$(gets "$new" "ollama-linux-amd64.$(fmt "$new")")" -ge 1 ]
  want "the rocm add-on is not in $rel/opt/ollama/$new/lib/ollama" \
    compgen -G "$rel/opt/ollama/$new/lib/ollama/rocm*/README.llmops-rig" >/dev/null
  want "the report does not list the rocm add-on" grep -qE '"gpu_bundles": \[ *"rocm" *\]' <(tr -d '\n' <"$work/rel_new.log")
  for extra in "$(dirname "$(dirname "$ollama_bin")")/go-bin-$new"/*; do  # llama-server, lib*.so next to the rig's binary
    [ "$(basename "$extra")" = ollama ] || [ ! -f "$extra" ] || case "$extra" in *.log|*.json|*.txt) ;; *)
      want "$(basename "$extra") is not in lib/ollama" [ -f "$rel/opt/ollama/$new/lib/ollama/$(basename "$extra")" ] ;; esac
  done

  # R4. Second run and check run: nothing to do, nothing downloaded.
  n=$(wc -l <"$mirror_log")
  run_rel rel_new2 -e "ollama_version=$new" -e '{"ollama_gpu_bundles": ["rocm"]}'
  expect 0 eq 0 "role_ollama: release: the second run must report changed=0"
  run_rel rel_new2_check --check -e "ollama_version=$new" -e '{"ollama_gpu_bundles": ["rocm"]}'
  expect 0 eq 0 "role_ollama: release: a check run after the upgrade must report changed=0"
  want "a run with nothing to do downloaded: $(tail -n +"$((n + 1))" "$mirror_log")" [ "$(wc -l <"$mirror_log")" -eq "$n" ]

  # R5. Downgrade (rollback): the old version directory is still there (keep 2), so no download.
  run_rel rel_down -e "ollama_version=$old"
  expect 0 gt 0 "role_ollama: release: the downgrade should change"
  want "the downgrade runs $(bin_version), expected $old" [ "$(bin_version)" = "$old" ]
  want "the downgrade downloaded again" [ "$(wc -l <"$mirror_log")" -eq "$n" ]

  # R6. Prune: keep 1 while moving back to the newest removes the old directory.
  run_rel rel_prune -e "ollama_version=$new" -e ollama_install_keep=1
  expect 0 gt 0 "role_ollama: release: the prune run should change"
  want "ollama_install_keep=1 left $rel/opt/ollama/$old" [ ! -e "$rel/opt/ollama/$old" ]
  want "the prune removed the version in use" [ "$(bin_version)" = "$new" ]
else
  echo "role_ollama: release: WARNING: the rig cache has one Ollama version ($new): upgrade, downgrade and prune NOT tested"
fi

# R7. Controller cache: downloaded once into it with sha256sum.txt, then a host installs from it offline.
rm -rf "$rel"
run_rel rel_cache -e "ollama_version=$new" -e "ollama_archive_cache=$work/controller-cache"
expect 0 gt 0 "role_ollama: release: the cache run should change"
want "the cache lacks the archive" [ -f "$work/controller-cache/v$new/ollama-linux-amd64.$(fmt "$new")" ]
want "the cache lacks sha256sum.txt" [ -f "$work/controller-cache/v$new/sha256sum.txt" ]
want "the cache run runs $(bin_version)" [ "$(bin_version)" = "$new" ]
rm -rf "$rel"
run_rel rel_cache_offline -e "ollama_version=$new" -e "ollama_archive_cache=$work/controller-cache" \
  -e ollama_release_base_url=http://127.0.0.1:9
expect 0 gt 0 "role_ollama: release: installing from a filled cache with no network should succeed"
want "the offline cache run runs $(bin_version)" [ "$(bin_version)" = "$new" ]

# R8. The download honours a proxy: an unresolvable release host through the mirror acting as the proxy.
rm -rf "$rel"
before=$(grep -c "PROXY /v$new/ollama-linux-amd64.$(fmt "$new")" "$mirror_log" || true)
run_rel rel_proxy -e "ollama_version=$new" -e ollama_release_base_url=http://releases.invalid \
  -e "ollama_download_proxy=$mirror"
expect 0 gt 0 "role_ollama: release: a download through the proxy should succeed"
want "the archive did not go through the proxy" \
  [ "$(grep -c "PROXY /v$new/ollama-linux-amd64.$(fmt "$new")" "$mirror_log")" -gt "$before" ]

# R9. A wrong pinned checksum fails before anything is unpacked.
rm -rf "$rel"
run_rel rel_badsum -e "ollama_version=$new" -e "ollama_archive_checksum=sha256:$(printf '0%.0s' {1..64})"
expect 1 eq 1 "role_ollama: release: a wrong checksum must fail"
want "the wrong-checksum run unpacked something" [ ! -e "$rel/opt/ollama/$new/bin/ollama" ]
want "the wrong-checksum run created the link" [ ! -L "$rel/bin/ollama" ]
grep -q 'did not match' "$work/rel_badsum.log" || { echo "role_ollama: release: no checksum message"; exit 1; }

# R10. ollama_state absent: the install goes, the models directory stays.
run_rel rel_present -e "ollama_version=$new"
mkdir -p "$rel/models/blobs" && touch "$rel/models/blobs/keep-me"
run_rel rel_absent_check --check -e "ollama_version=$new" -e ollama_state=absent
expect 0 gt 0 "role_ollama: release: check mode should predict the removal"
want "check mode removed the install" [ -e "$rel/bin/ollama" ]
run_rel rel_absent -e "ollama_version=$new" -e ollama_state=absent
expect 0 gt 0 "role_ollama: release: absent should change"
want "absent left $rel/opt/ollama" [ ! -e "$rel/opt/ollama" ]
want "absent left the link" [ ! -L "$rel/bin/ollama" ]
want "absent left the download directory" [ ! -e "$rel/cache" ]
want "absent removed the models" [ -f "$rel/models/blobs/keep-me" ]
run_rel rel_absent2 -e "ollama_version=$new" -e ollama_state=absent
expect 0 eq 0 "role_ollama: release: a second absent run must report changed=0"
# R11. Rolling rollout: two hosts, the first cannot install (a version the mirror lacks). With ollama_serial=1
# (max_fail_percentage 0 by default) the rollout stops after the first batch; without it both hosts run.
grep -vE '^ollama_(install_dir|binary_link|download_dir|hosts):' "$work/release-vars.yml" >"$work/rolling-vars.yml"

cat >"$work/rolling.ini" <<INV
h1 ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}" ollama_version=0.0.1 ollama_install_dir=$rel/h1/opt ollama_binary_link=$rel/h1/bin/ollama ollama_download_dir=$rel/h1/cache
h2 ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}" ollama_version=$new ollama_install_dir=$rel/h2/opt ollama_binary_link=$rel/h2/bin/ollama ollama_download_dir=$rel/h2/cache
INV
echo "=== role_ollama: release: rolling (serial 1)"
ansible-playbook -i "$work/rolling.ini" provision.yml -e "@$work/rolling-vars.yml" -e ollama_hosts=all \
  -e ollama_serial=1 >"$work/rolling.log" 2>&1 || true
grep -E '^h[12] +:' "$work/rolling.log" || true
want "serial 1: h1 should fail" grep -qE '^h1 +:.*failed=1' "$work/rolling.log"
want "serial 1: the rollout went on to h2 after h1 failed" [ ! -L "$rel/h2/bin/ollama" ]
echo "=== role_ollama: release: rolling (all at once)"
ansible-playbook -i "$work/rolling.ini" provision.yml -e "@$work/rolling-vars.yml" -e ollama_hosts=all \
  >"$work/rolling_all.log" 2>&1 || true
grep -E '^h[12] +:' "$work/rolling_all.log" || true
want "without serial h2 should be installed" [ "$(OLLAMA_HOST=127.0.0.1:9 "$rel/h2/bin/ollama" --version 2>&1 | sed -n 's/.*version is //p')" = "$new" ]
echo "role_ollama: release mirror checks passed"
