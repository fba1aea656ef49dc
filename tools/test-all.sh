#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# test-all.sh MAKE PHASE...: run `MAKE PHASE` for each phase (all of them, even after a failure),
# time each, print a table and a line "phases: N ok, M failed". Exits 1 if any phase failed.
# (.ci/run ends with the test counts; phases are not tests.)
set -uo pipefail

make_cmd=${1:?usage: test-all.sh MAKE PHASE...}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PHASE_RESULTS=$(mktemp)
export PHASE_RESULTS
trap 'rm -f "$PHASE_RESULTS"' EXIT

start=$(date +%s)
for phase in "$@"; do
  "$here/phase.sh" "$phase" "$make_cmd" --no-print-directory "$phase" || true
done
total=$(( $(date +%s) - start ))

passed=0
failed=0
echo
echo "=== make test: phase results"
for phase in "$@"; do
  line=$(grep -E "^$phase " "$PHASE_RESULTS" | tail -n 1 || true)
  if [ -z "$line" ]; then
    line="$phase FAILED ?"
  fi
  read -r name status secs <<<"$line"
  printf '  %-12s %-7s %6ss\n' "$name" "$status" "$secs"
  if [ "$status" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
printf '  %-12s %-7s %6ss\n' total "" "$total"
echo "phases: $passed ok, $failed failed"
[ "$failed" -eq 0 ]
