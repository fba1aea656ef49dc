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
  - True when O(_input) and O(other) name the same model the way Ollama compares names (the rules the modules
    use). The default registry C(registry.ollama.ai), namespace C(library) and tag C(latest) may be left out, a
    C(https://) scheme is ignored, and case does not matter.
  - Fails, naming the value, when either is not a valid model name.
  - The same rule is the test P(llmops.ollama.same_model#test), for C(select) and C(selectattr).
options:
  _input:
    description: A model name.
    type: str
    required: true
  other:
    description: The model name to compare with.
    type: str
    required: true
seealso:
  - plugin: llmops.ollama.model_name
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The URL form and the short form are one model
  ansible.builtin.assert:
    that:
      - "'https://registry.ollama.ai/library/gemma3' | llmops.ollama.same_model('gemma3')"
      - "'gemma3' | llmops.ollama.same_model('gemma3:latest')"
      - "not ('gemma3' | llmops.ollama.same_model('gemma3:1b'))"

- name: The entries of ollama_info's running list that are the model asked for (test form)
  ansible.builtin.debug:
    msg: "{{ info.running | selectattr('name', 'llmops.ollama.same_model', 'registry.ollama.ai/library/qwen2.5:7b') }}"
"""

RETURN = r"""
_value:
  description: V(true) when both names denote the same model.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidName, same_model as _same_model


def same_model(left, right):
    try:
        return _same_model(left, right)
    except InvalidName as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"same_model": same_model}
