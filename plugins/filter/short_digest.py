# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: short_digest
short_description: The 12 hex characters Ollama shows for a model's digest
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Shortens a manifest or blob digest, with or without its C(sha256:) prefix, to the 12 hex characters that
    C(ollama list) shows and the modules' diffs use (C(name@digest)), so a report or a message written in a
    playbook shows digests the way the modules do.
  - An empty or missing digest (a model that is not there) gives an empty string.
options:
  _input:
    description: A digest, C([sha256:]<64 hex>), as C(/api/tags), the modules' results and registries give it.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: A model and its digest, the way the modules' diffs show them
  ansible.builtin.debug:
    msg: "{{ item.name }}@{{ item.digest | llmops.ollama.short_digest }}"
  loop: "{{ ollama_info_result.models }}"

- name: Before and after of an update, with a word for a model that was not there
  ansible.builtin.debug:
    msg: "{{ (result.models[0].digest_before | llmops.ollama.short_digest) or 'none' }}"
"""

RETURN = r"""
_value:
  description: The first 12 hex characters of the digest, or an empty string for none.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._names import short_digest as _short_digest


def short_digest(value):
    if value is not None and not isinstance(value, str):
        raise AnsibleFilterError(f"short_digest: {value!r} is not a string")
    return _short_digest(value)


class FilterModule:
    def filters(self):
        return {"short_digest": short_digest}
