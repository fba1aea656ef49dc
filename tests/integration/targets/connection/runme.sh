#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Connection options and transport guarantees against the real rig server (tests/rig/rig.py up), as a person
# sees them: connection.yml asserts on the module results, and this script runs it at default verbosity and at
# -vvv and fails if the secret used in it shows anywhere in the output (docs/docsite/rst/security.rst).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${LLMOPS_RIG_INTEGRATION_CONFIG:-$here/../../integration_config.yml}
if [ ! -s "$config" ]; then
  echo "connection: $config is missing: start the rig first (tests/rig/rig.py up)" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/connection.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
cd "$here"

# Distinctive, and split so that this script's own text never matches the grep below.
secret="rig-$(date +%s)-$$-tok""en"
for verbosity in "" -vvv; do
  echo "=== connection: ansible-playbook ${verbosity:-(default verbosity)}"
  # Through the environment: -vvv prints extra vars.
  CONNECTION_TEST_SECRET=$secret ansible-playbook -i inventory connection.yml -e "@$config" $verbosity "$@" \
    2>&1 | tee "$work/run.log"
  if grep -qF "$secret" "$work/run.log"; then
    echo "connection: the secret shows in the output at ${verbosity:-default verbosity}:" >&2
    grep -nF "$secret" "$work/run.log" | cut -c1-300 >&2
    exit 1
  fi
  # changed=1: the check run without insecure predicts a pull (it cannot ask the plain-http registry over https).
  grep -qE '^localhost +: ok=[0-9]+ +changed=1 +unreachable=0 +failed=0' "$work/run.log"
done
