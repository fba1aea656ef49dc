# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_archive
short_description: File name of an Ollama Linux release archive for a version
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Returns the name upstream's release workflow gives the Linux bundle of O(_input) for an architecture,
    C(ollama-linux-<arch>[-<bundle>].tgz) before Ollama 0.14.0 and C(.tar.zst) from 0.14.0.
  - Fails for an add-on that upstream does not build for that architecture or version.
options:
  _input:
    description: The Ollama version, for example C(0.24.0).
    type: str
    required: true
  arch:
    description: C(amd64) or C(arm64).
    type: str
    required: true
  bundle:
    description: Empty for the base bundle, else an add-on (C(rocm), C(jetpack5), C(jetpack6), C(mlx)).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The base archive of 0.24.0
  ansible.builtin.debug:
    msg: "{{ '0.24.0' | llmops.ollama.release_archive('amd64') }}"  # ollama-linux-amd64.tar.zst

- name: The ROCm add-on of 0.13.5
  ansible.builtin.debug:
    msg: "{{ '0.13.5' | llmops.ollama.release_archive('amd64', 'rocm') }}"  # ollama-linux-amd64-rocm.tgz
"""

RETURN = r"""
_value:
  description: The archive file name.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._release import InvalidRelease, archive_name


def release_archive(version, arch, bundle=""):
    try:
        return archive_name(version, arch, bundle)
    except InvalidRelease as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"release_archive": release_archive}
