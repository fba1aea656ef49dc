#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Self-test of .ci/run's verdict: replays recorded `make test` logs through it (LLMOPS_CI_REPLAY) and checks
# its exit status and closing "summary:" line. Run by `make lint`. A green run once ended with exit 1 and no
# summary because a count found nothing to count; these cases keep that from coming back.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

pytest_ok='============================= 256 passed in 17.65s ============================='
pytest_ok2='============================= 3 passed, 1 warning in 0.40s ============================='
pytest_bad='========================= 1 failed, 255 passed in 17.65s ========================='
matrix_ok='matrix: 896 passed, 0 failed (tests); 7 cells ok, 0 cells failed, 0 cells not run; 899s'
matrix_bad='matrix: 890 passed, 6 failed (tests); 6 cells ok, 1 cells failed, 0 cells not run; 899s'

# case_ NAME MAKE_RC EXPECTED (ok | fail) EXPECTED_SUMMARY LOG_LINES...
case_() {
  local name=$1 rc=$2 want_status=$3 want_summary=$4 status out
  shift 4
  printf '%s\n' "$@" >"$tmp/log"
  set +e
  out=$(LLMOPS_CI_REPLAY="$tmp/log" LLMOPS_CI_REPLAY_RC="$rc" bash .ci/run 2>&1)
  status=$?
  set -e
  local got_summary
  got_summary=$(grep '^summary: ' <<<"$out" | tail -n 1 || true)
  local verdict=fail
  [ "$status" -eq 0 ] && verdict=ok
  if [ "$verdict" != "$want_status" ] || [ "$got_summary" != "summary: $want_summary" ]; then
    echo "ci-run-selftest: FAIL $name: exit $status (want $want_status), '$got_summary' (want 'summary: $want_summary')"
    fails=$((fails + 1))
  else
    echo "ci-run-selftest: ok   $name: exit $status, $got_summary"
  fi
}

case_ "all green, no pytest failure line" 0 ok "1155 passed, 0 failed" \
  "$pytest_ok" "$pytest_ok2" "=== phase lint: ok in 19s (exit 0)" "$matrix_ok"
case_ "a unit test failed" 2 fail "1151 passed, 1 failed" "$pytest_bad" "$matrix_ok"
case_ "a matrix cell failed" 2 fail "1146 passed, 6 failed" "$pytest_ok" "$matrix_bad"
case_ "sanity failed" 2 fail "1152 passed, 1 failed" "$pytest_ok" "=== phase sanity: FAILED in 3s (exit 1)" "$matrix_ok"
case_ "the quick bench failed" 2 fail "1152 passed, 1 failed" "$pytest_ok" "$matrix_ok" "=== phase bench-quick: FAILED in 90s (exit 1)"
case_ "units never reached pytest" 2 fail "896 passed, 1 failed" "=== phase units: FAILED in 3s (exit 2)" "$matrix_ok"
case_ "matrix did not run" 2 fail "256 passed, 1 failed" "$pytest_ok"
case_ "make says ok but no unit tests ran" 0 fail "896 passed, 0 failed" "$matrix_ok"

if [ "$fails" -ne 0 ]; then
  echo "ci-run-selftest: $fails case(s) failed"
  exit 1
fi
echo "ci-run-selftest: all cases passed"
