# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: model_key
short_description: The key Ollama compares a model name by
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Returns C(host/namespace/model:tag) of a model name, lower case, with Ollama's defaults filled in
    (C(registry.ollama.ai), C(library), C(latest)), so two names that denote the same model give the same key.
  - Fails for a name the Ollama server would reject, naming it and the bad part.
options:
  _input:
    description: A model name, for example C(gemma3) or C(registry.example.com/team/model:7b).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Both give registry.ollama.ai/library/gemma3:latest
  ansible.builtin.debug:
    msg: "{{ ['gemma3', 'library/Gemma3:latest'] | map('llmops.ollama.model_key') | list }}"
"""

RETURN = r"""
_value:
  description: The comparison key.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._listen import listen_url
from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidName, parse_name


def model_key(name):
    try:
        parsed = parse_name(str(name))
    except InvalidName as exc:
        raise AnsibleFilterError(str(exc)) from exc
    host, namespace, model, tag = parsed.key
    return f"{host}/{namespace}/{model}:{tag}"


class FilterModule:
    def filters(self):
        return {
            "model_key": model_key,
            "listen_url": listen_url,
        }
