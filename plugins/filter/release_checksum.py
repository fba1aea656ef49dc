# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_checksum
short_description: The checksum of one archive from a release's sha256sum.txt
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Reads C(sha256sum) output (C(<hex>  ./<name>) lines, as Ollama's release workflow writes them) and
    returns C(sha256:<hex>) for O(name), ready for the C(checksum) option of M(ansible.builtin.get_url).
  - Fails, naming the file and what it lists, when O(name) is not in it.
options:
  _input:
    description: The text of sha256sum.txt.
    type: str
    required: true
  name:
    description: The archive file name.
    type: str
    required: true
  source:
    description: Where the text came from, for the error message.
    type: str
    default: sha256sum.txt
"""

EXAMPLES = r"""
- name: Checksum of the base archive
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'sha256sum.txt') | llmops.ollama.release_checksum('ollama-linux-amd64.tar.zst') }}"
"""

RETURN = r"""
_value:
  description: C(sha256:<hex>).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._release import parse_sha256sums


def release_checksum(sums_text, name, source="sha256sum.txt"):
    sums = parse_sha256sums(sums_text)
    if name not in sums:
        raise AnsibleFilterError(f"{source} has no checksum for {name} (it lists: {', '.join(sorted(sums)) or 'nothing'})")
    return "sha256:" + sums[name]


class FilterModule:
    def filters(self):
        return {"release_checksum": release_checksum}
