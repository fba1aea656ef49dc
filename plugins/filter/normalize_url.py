# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: normalize_url
short_description: The base URL of an Ollama API, read the way the modules read their url option
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Turns an C(OLLAMA_HOST)-style value (C(host), C(host:port), C([v6]:port), C(scheme://host[:port][/path]))
    into C(scheme://host:port[/path]), with the rule of the modules' O(llmops.ollama.ollama_model#module:url)
    option (the Ollama CLI's). A missing port is C(11434), or C(80) for C(http://) and C(443) for C(https://);
    an empty value is C(http://127.0.0.1:11434).
  - Fails for a value with credentials (without repeating it), a control character or space, a scheme other
    than C(http) and C(https), or a bad port.
options:
  _input:
    description: The URL or C(OLLAMA_HOST) value.
    type: str
    required: true
  listen:
    description:
      - O(_input) is the address the server listens on (its own C(OLLAMA_HOST)), so a wildcard address
        (C(0.0.0.0), C(::)) becomes C(127.0.0.1), where a client on the same host reaches it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The URL of the server this host runs
  ansible.builtin.debug:
    msg: "{{ '0.0.0.0' | llmops.ollama.normalize_url(listen=true) }}"  # http://127.0.0.1:11434

- name: An API behind a TLS proxy
  ansible.builtin.debug:
    msg: "{{ 'https://ollama.example.com' | llmops.ollama.normalize_url }}"  # https://ollama.example.com:443
"""

RETURN = r"""
_value:
  description: The base URL, C(scheme://host:port) and the path, if any, without a trailing slash.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._client import normalize_url as _normalize_url


def normalize_url(value, listen=False):
    if value is not None and not isinstance(value, str):
        raise AnsibleFilterError(f"normalize_url: {value!r} is not a string")
    try:
        return _normalize_url(value, listen=bool(listen))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"normalize_url": normalize_url}
