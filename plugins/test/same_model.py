# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: same_model
short_description: Whether two names denote the same Ollama model
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - The test form of P(llmops.ollama.same_model#filter), for C(select), C(reject), C(selectattr) and
    C(rejectattr) - true when O(_input) and O(other) name the same model the way Ollama compares names.
  - Fails, naming the value, when either is not a valid model name.
options:
  _input:
    description: A model name.
    type: str
    required: true
  other:
    description: The model name to compare with.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The URL form and the short form are one model
  ansible.builtin.assert:
    that:
      - "'https://registry.ollama.ai/library/gemma3' is llmops.ollama.same_model('gemma3')"

- name: Is gemma3 loaded?
  ansible.builtin.debug:
    msg: "{{ info.running | selectattr('name', 'llmops.ollama.same_model', 'gemma3') | list | length > 0 }}"
"""

RETURN = r"""
_value:
  description: V(true) when both names denote the same model.
  type: bool
"""

from ansible_collections.llmops.ollama.plugins.filter.same_model import same_model


class TestModule:
    def tests(self):
        return {"same_model": same_model}
