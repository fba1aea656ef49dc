# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: keep_alive
short_description: A keep_alive value as Ollama's API must receive it
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Validates O(_input) with the rule of O(llmops.ollama.ollama_loaded#module:keep_alive) (the server's own
    C(api.Duration)) and returns the JSON value to send.
  - A number is seconds (negative is forever). A string that spells a number (V("300"), V("-1"), V("1.5"),
    what templating often makes of a number) is returned as that number, because the server refuses a string
    without a unit. A Go duration string (V(30m), V(2h), V(-1m)) is returned unchanged.
  - Fails, naming the value, for what the server would refuse or misread (V(1d), V(5x), V(true), a number of
    seconds so large that it would unload the model at once).
options:
  _input:
    description: The keep_alive value.
    type: raw
    required: true
  option:
    description: The variable or option the value came from, for the error message.
    type: str
    default: keep_alive
"""

EXAMPLES = r"""
- name: Warm a model with a keep_alive from an inventory string
  llmops.ollama.ollama_loaded:
    name: qwen2.5:7b
    keep_alive: "{{ host_keep_alive | llmops.ollama.keep_alive('host_keep_alive') }}"  # "300" -> 300, "1d" fails

- name: In a request body built by hand
  ansible.builtin.uri:
    url: http://127.0.0.1:11434/api/generate
    method: POST
    body_format: json
    body:
      model: qwen2.5:7b
      keep_alive: "{{ '-1' | llmops.ollama.keep_alive }}"  # -1 (forever)
"""

RETURN = r"""
_value:
  description: An integer or float number of seconds, or a duration string with a unit.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidKeepAlive, parse_keep_alive


def keep_alive(value, option="keep_alive"):
    try:
        return parse_keep_alive(value, option).wire
    except InvalidKeepAlive as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"keep_alive": keep_alive}
