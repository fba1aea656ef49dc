# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: valid_keep_alive
short_description: Whether a value is a keep_alive the Ollama server accepts
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - True when P(llmops.ollama.keep_alive#filter) accepts O(_input) (the rule of
    O(llmops.ollama.ollama_loaded#module:keep_alive)), false otherwise. Never fails, so it can pick the bad
    values out of a list for an error message.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: The keep_alive is one Ollama accepts
  ansible.builtin.assert:
    that: my_keep_alive is llmops.ollama.valid_keep_alive
    fail_msg: "my_keep_alive {{ my_keep_alive }} is not seconds or a duration such as 30m"
"""

RETURN = r"""
_value:
  description: V(true) for a valid keep_alive.
  type: bool
"""

from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidKeepAlive, parse_keep_alive


def valid_keep_alive(value):
    try:
        parse_keep_alive(value)
    except InvalidKeepAlive:
        return False
    return True


class TestModule:
    def tests(self):
        return {"valid_keep_alive": valid_keep_alive}
