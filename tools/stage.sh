#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Copy the collection (the repo root) to DEST, a real directory ending in
# ansible_collections/<namespace>/<name> (ansible-test refuses symlinks, see the style brief P1).
# Copies what git would commit: tracked files plus untracked files that .gitignore does not
# exclude, so .venv, tests/output, __pycache__ and the rig's generated files stay out.
# Outside a git work tree it falls back to a tar copy with the same exclusions.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:?usage: stage.sh DEST}

case "$dest" in
  */ansible_collections/*/*) ;;
  *) echo "stage.sh: $dest is not .../ansible_collections/<ns>/<name>" >&2; exit 2 ;;
esac

rm -rf "$dest"
mkdir -p "$dest"

if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # -z + --null keep odd file names intact; skip tracked files deleted in the work tree.
  git -C "$src" ls-files -z --cached --others --exclude-standard \
    | (cd "$src" && while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done) \
    | tar -C "$src" --null -T - -cf - \
    | tar -C "$dest" -xf -
else
  tar -C "$src" \
    --exclude=./.git --exclude=./.venv --exclude=./tests/output --exclude='__pycache__' \
    --exclude='*.pyc' --exclude=./.pytest_cache --exclude=./changelogs/.plugin-cache.yaml \
    --exclude=./tests/integration/integration_config.yml --exclude=./tests/integration/inventory \
    -cf - . | tar -C "$dest" -xf -
fi
