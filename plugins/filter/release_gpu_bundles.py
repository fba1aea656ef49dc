# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_gpu_bundles
short_description: The Ollama add-on bundles Ollama's install.sh would add for this hardware
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - C(jetpack6) on NVIDIA Jetson with L4T R36, C(jetpack5) with R35 (arm64), else C(rocm) when an AMD GPU
    was found (amd64), else nothing.
options:
  _input:
    description: The release architecture, C(amd64) or C(arm64).
    type: str
    required: true
  amd_gpu:
    description: Whether an AMD GPU was found.
    type: bool
    default: false
  tegra_release:
    description: The content of C(/etc/nv_tegra_release), empty when the file does not exist.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Add-ons for this host
  ansible.builtin.debug:
    msg: "{{ 'arm64' | llmops.ollama.release_gpu_bundles(false, '# R36 (release), REVISION: 4.3') }}"  # ['jetpack6']
"""

RETURN = r"""
_value:
  description: A list of add-on names.
  type: list
  elements: str
"""

from ansible_collections.llmops.ollama.plugins.module_utils._release import auto_bundles


def release_gpu_bundles(arch, amd_gpu=False, tegra_release=""):
    return auto_bundles(str(arch), bool(amd_gpu), tegra_release or "")


class FilterModule:
    def filters(self):
        return {"release_gpu_bundles": release_gpu_bundles}
