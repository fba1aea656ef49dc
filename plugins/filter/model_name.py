# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: model_name
short_description: The canonical form of an Ollama model name
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Parses O(_input) with the rules the modules use (Ollama's own C(types/model/name.go)) and returns it in one
    canonical form, so that names written differently can be shown, compared or used as dictionary keys.
  - C(gemma3), C(gemma3:latest), C(library/gemma3:latest), C(registry.ollama.ai/library/gemma3) and
    C(https://registry.ollama.ai/library/gemma3) are one model.
  - Fails, naming the value and the part that is wrong, for a name the Ollama server would refuse or misread.
  - To test whether two names are the same model use P(llmops.ollama.same_model#filter); to check a name without
    failing use P(llmops.ollama.valid_model_name#test).
options:
  _input:
    description: A model name, C([scheme://][host/][namespace/]model[:tag]).
    type: str
    required: true
  form:
    description:
      - V(short) is what C(ollama list) and C(/api/tags) show (C(gemma3:latest), C(myorg/gemma3:latest),
        C(registry.example.com/myorg/gemma3:latest)).
      - V(full) always names the registry and namespace (C(registry.ollama.ai/library/gemma3:latest)).
      - V(key) is V(full) in lower case, what Ollama compares (names differ only in case denote one model).
    type: str
    default: short
    choices: [short, full, key]
"""

EXAMPLES = r"""
- name: The name ollama list shows
  ansible.builtin.debug:
    msg: "{{ 'https://registry.ollama.ai/library/gemma3' | llmops.ollama.model_name }}"  # gemma3:latest

- name: Group a list of names by the model they denote
  ansible.builtin.debug:
    msg: "{{ ['gemma3', 'Gemma3:latest', 'qwen2.5:7b'] | map('llmops.ollama.model_name', 'key') | unique | list }}"
    # ['registry.ollama.ai/library/gemma3:latest', 'registry.ollama.ai/library/qwen2.5:7b']
"""

RETURN = r"""
_value:
  description: The name in the form asked for.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidName, parse_name

_FORMS = ("short", "full", "key")


def model_name(name, form="short"):
    if form not in _FORMS:
        raise AnsibleFilterError(f"model_name: form {form!r} is not one of {', '.join(_FORMS)}")
    try:
        parsed = parse_name(name)
    except InvalidName as exc:
        raise AnsibleFilterError(str(exc)) from None
    if form == "short":
        return parsed.short
    if form == "full":
        return parsed.full
    return "/".join(parsed.key[:3]) + ":" + parsed.key[3]


class FilterModule:
    def filters(self):
        return {"model_name": model_name}
