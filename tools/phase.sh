#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# phase.sh NAME COMMAND...: run COMMAND, print its duration and result, and (if PHASE_RESULTS is
# set) append "NAME STATUS SECONDS" to that file. Exits with COMMAND's exit code.
set -uo pipefail

name=${1:?usage: phase.sh NAME COMMAND...}
shift
start=$(date +%s)
echo "=== phase $name: start ($(date -u +%H:%M:%SZ))"
"$@"
rc=$?
secs=$(( $(date +%s) - start ))
if [ "$rc" -eq 0 ]; then status=ok; else status=FAILED; fi
echo "=== phase $name: $status in ${secs}s (exit $rc)"
if [ -n "${PHASE_RESULTS:-}" ]; then
  echo "$name $status $secs" >> "$PHASE_RESULTS"
fi
exit "$rc"
