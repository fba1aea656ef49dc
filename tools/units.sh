#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# units.sh PY [ansible-test options...]: run from the staged collection directory.
# ansible-test units in its managed venv (--venv: requirements from its own units list plus
# tests/unit/requirements.txt, installed from PyPI / the pip cache). ansible-test exits 0 with
# "All targets skipped" when there are no unit tests, and pytest exits 5 when it collects none:
# both count as a FAILURE here (a green run must have run tests) unless UNITS_ALLOW_EMPTY=1.
set -uo pipefail

py=${1:?usage: units.sh PY [options]}
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

ansible-test units --venv --python "$py" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

summary=$(grep -E '^=+ .*[0-9]+ (passed|failed|error).* in [0-9.]+s' "$log" | tail -1 || true)
if [ "$rc" -eq 5 ] || grep -q 'All targets skipped' "$log" || ! grep -qE '[0-9]+ passed' <<<"$summary"; then
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 5 ]; then
    if [ "${UNITS_ALLOW_EMPTY:-0}" = 1 ]; then
      echo "units: no unit tests ran (allowed by UNITS_ALLOW_EMPTY=1)"
      exit 0
    fi
    echo "units: FAILED: no unit tests ran (none found under tests/unit/, or pytest collected none)" >&2
    exit 1
  fi
fi
exit "$rc"
