# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: valid_model_name
short_description: Whether a value is a model name the Ollama server accepts
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - True when O(_input) is a string that P(llmops.ollama.model_name#filter) accepts (the rules the modules use),
    false otherwise. Never fails, so it can pick the bad entries out of a list for an error message.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Every model name is valid
  ansible.builtin.assert:
    that: bad | length == 0
    fail_msg: "Invalid model names: {{ bad | join(', ') }}"
  vars:
    bad: "{{ my_models | reject('llmops.ollama.valid_model_name') | list }}"
"""

RETURN = r"""
_value:
  description: V(true) for a valid model name.
  type: bool
"""

from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidName, parse_name


def valid_model_name(value):
    try:
        parse_name(value)
    except InvalidName:
        return False
    return True


class TestModule:
    def tests(self):
        return {"valid_model_name": valid_model_name}
