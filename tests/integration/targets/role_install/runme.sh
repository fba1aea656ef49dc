#!/usr/bin/env bash
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The role's install path against the real rig: upstream's release layout served by the rig's release mirror
# (tests/rig/release_mirror.py) with the role's default URL templates (old .tgz install, upgrade to .tar.zst with
# an add-on, downgrade, prune, controller cache, proxy, bad checksum, ollama_state absent, serial rollout), and
# the disk-space check before pulls. The scripts live beside role_ollama's (release.sh, space.sh), which runs
# them with ROLE_OLLAMA_PART=install and its shared helpers and cleanup.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROLE_OLLAMA_PART=install exec "$here/../role_ollama/runme.sh" "$@"
