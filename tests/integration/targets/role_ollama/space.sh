# shellcheck shell=bash disable=SC2154,SC2034  # sourced by runme.sh: config, work, changed, failed live there
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by runme.sh. Disk space before pulls: ollama_models_dir on a 16 MiB tmpfs, and a model of ~46 MB whose
# blobs the rig server does not have (the embedding model, deleted first: its blobs go with it; the cleanup pulls
# it back). The role must fail before pulling, naming what the pull adds (the registry manifest's sizes of the
# blobs the server lacks) and what the filesystem has free, and the server must still not have the model.

variant=$(sed -n 's/^ollama_embed_model: *//p' "$config" | tr -d "\"'")
url=$(sed -n 's/^ollama_url: *//p' "$config" | tr -d "\"'")
ansible -i inventory localhost -m llmops.ollama.ollama_model -a "name=$variant state=absent url=$url" >/dev/null
small=$work/small-models
mkdir -p "$small"
mount -t tmpfs -o size=16m tmpfs "$small"
cat >"$work/space-vars.yml" <<VARS
ollama_hosts: localhost
ollama_provision_become: false
ollama_install: false
ollama_service_manager: none
ollama_url: "$url"
ollama_models_dir: "$small"
ollama_models_dir_manage: false
ollama_models_insecure: true
ollama_models_space_margin: 1
ollama_gpu_report: false
ollama_models:
  - "$variant"
VARS
echo "=== role_ollama: space (models dir on a 16 MiB tmpfs, pull $variant)"
ansible-playbook -i inventory provision.yml -e "@$work/space-vars.yml" >"$work/space.log" 2>&1 || true
umount "$small"
grep -E '^localhost +:' "$work/space.log" || tail -n 30 "$work/space.log"
read -r changed failed < <(recap "$work/space.log")
expect 1 eq 0 "role_ollama: space: a pull that does not fit must fail before changing anything"
grep -oE 'Not enough disk space for [^"]*' "$work/space.log" | head -n 1
if ! grep -qE "the pull adds [0-9.]+ [kMG]?B \([0-9]+ bytes\) to $small, but $small has only [0-9.]+ [kMG]?B \([0-9]+ bytes\) free" "$work/space.log"; then
  echo "role_ollama: space: the failure does not name both numbers"
  exit 1
fi
ansible-playbook -i inventory verify_space.yml -e "@$config" -e "variant=$variant"
echo "role_ollama: space checks passed"
