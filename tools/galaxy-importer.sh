#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# galaxy-importer.sh STAGE: build the collection tarball from the staged copy (what git would commit, with
# galaxy.yml's build_ignore) and run galaxy-importer on it the way Galaxy / Automation Hub import it:
# ansible-doc on every plugin, ansible-lint (offline), the README and role checks. Its ansible-test stage
# needs containers and is turned off (GALAXY_IMPORTER_RUN_ANSIBLE_TEST=false): `make sanity` covers it.
# Fails on any ERROR line or a non-zero exit; prints the importer's warnings.
set -euo pipefail

stage=${1:?usage: galaxy-importer.sh STAGE}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/tools/stage.sh" "$stage"
out=$(cd "$stage/../../.." && pwd)/galaxy-build
rm -rf "$out"
mkdir -p "$out"
(cd "$stage" && ansible-galaxy collection build --output-path "$out" >/dev/null)
tarball=$(ls "$out"/*.tar.gz)
echo "galaxy-importer: $(basename "$tarball")"

export GALAXY_IMPORTER_RUN_ANSIBLE_TEST=false GALAXY_IMPORTER_OFFLINE_ANSIBLE_LINT=true \
  GALAXY_IMPORTER_RUN_ANSIBLE_LINT=true GALAXY_IMPORTER_RUN_ANSIBLE_DOC=true \
  GALAXY_IMPORTER_TMP_ROOT_DIR="$out" ANSIBLE_LOCAL_TEMP="$out/ansible-tmp"
log=$out/galaxy-importer.log
set +e
# It writes importer_result.json into the current directory: keep that out of the work tree.
(cd "$out" && python -m galaxy_importer.main "$tarball") >"$log" 2>&1
rc=$?
set -e
grep -E 'WARNING|ERROR|Traceback|importer' "$log" | grep -v '^{' || true
if [ "$rc" -ne 0 ] || grep -qE '^(ERROR|Traceback)|ImporterError' "$log"; then
  echo "galaxy-importer: FAILED (exit $rc); full log $log"
  tail -n 40 "$log"
  exit 1
fi
echo "galaxy-importer: passed ($(grep -c 'WARNING' "$log" || true) warnings)"
