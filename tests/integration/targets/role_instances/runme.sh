#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ollama_instances: several Ollama servers per host, one role run (role_ollama/instances.sh: two real servers on
# loopback, check run = real run, second run and check run changed=0, units rendered, invalid lists refused).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../role_ollama/instances.sh" "$@"
