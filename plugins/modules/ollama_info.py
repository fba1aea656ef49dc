#!/usr/bin/python
#
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_info
short_description: Gather facts from an Ollama server
version_added: 1.0.0
description:
  - Reads the Ollama server version, the installed models (C(GET /api/tags)), the models loaded in memory
    (C(GET /api/ps)) and, on request, per-model details (C(POST /api/show)).
  - Never changes anything on the server.
author:
  - llmops.ollama maintainers (@llmops-ollama)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - llmops.ollama._connection
  - llmops.ollama._connection.actiongroup
  - llmops.ollama._attributes
attributes:
  check_mode:
    support: full
    details:
      - This module only reads, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details:
      - This module never changes anything, so there is no difference to show.
  idempotent:
    support: full
    details:
      - This module only reads.
  platform:
    platforms: posix
options:
  gather:
    description:
      - What to gather.
      - V(version) is the server version, V(models) the installed models, V(running) the models loaded in
        memory, V(details) the metadata of each installed model (one C(/api/show) call per model, so limit it
        with O(name) on hosts with many models).
    type: list
    elements: str
    choices: [version, models, running, details]
    default: [version, models, running]
  name:
    description:
      - Limit O(gather=details) to these models. Names are matched the way Ollama matches them, so V(gemma3)
        finds V(gemma3:latest).
      - Giving O(name) implies V(details) in O(gather).
      - Names that are not installed are listed in RV(missing) instead of failing.
    type: list
    elements: str
    aliases: [model, models]
notes:
  - The server version of a source build without release flags is C(0.0.0).
seealso:
  - module: llmops.ollama.ollama_model
  - module: llmops.ollama.ollama_loaded
  - ref: ansible_collections.llmops.ollama.docsite.connection
    description: Connecting to Ollama, retries and error messages.
"""

EXAMPLES = r"""
- name: What does this Ollama server have?
  llmops.ollama.ollama_info:
  register: ollama

- name: Show the installed model names
  ansible.builtin.debug:
    msg: "{{ ollama.models | map(attribute='name') | list }}"

- name: Capabilities and context length of two models
  llmops.ollama.ollama_info:
    url: http://gpu01:11434
    name: [qwen2.5:7b, nomic-embed-text]
  register: facts

- name: Fail unless the chat model can use tools
  ansible.builtin.assert:
    that: "'tools' in facts.details[0].capabilities"

- name: Which models are fully in GPU memory?
  llmops.ollama.ollama_info:
    gather: [running]
  register: running

- name: List them
  ansible.builtin.debug:
    msg: "{{ running.running | selectattr('gpu_percent', '==', 100) | map(attribute='name') | list }}"
"""

RETURN = r"""
url:
  description: The base URL the module talked to.
  returned: always
  type: str
  sample: http://127.0.0.1:11434
version:
  description: The server version (C(GET /api/version)).
  returned: when V(version) is in O(gather)
  type: str
  sample: 0.24.0
models:
  description: The installed models, as C(GET /api/tags) lists them (newest first).
  returned: when V(models) is in O(gather)
  type: list
  elements: dict
  contains:
    name:
      description: The shortest name that denotes the model.
      type: str
      sample: gemma3:270m
    digest:
      description: The sha256 of the model's manifest (without C(sha256:)). Copies share it.
      type: str
      sample: e7d36fb2c3b3293cfe56d55889867a064b3a2b22e98335f2e6e8a387e081d6be
    size:
      description: Bytes on disk (all layers and the config).
      type: int
      sample: 291554930
    modified_at:
      description: When the manifest was last written.
      type: str
      sample: "2026-11-25T12:00:01.123456789Z"
    details:
      description: Format, family, families, parameter_size and quantization_level.
      type: dict
      sample: {"format": "gguf", "family": "gemma3", "parameter_size": "268.10M", "quantization_level": "Q4_K_M"}
running:
  description: The models loaded in memory (C(GET /api/ps)).
  returned: when V(running) is in O(gather)
  type: list
  elements: dict
  contains:
    name:
      description: The name the model was loaded under (an alias and its source share one runner).
      type: str
      sample: gemma3:270m
    digest:
      description: The manifest digest.
      type: str
    size:
      description: Bytes of memory the runner uses.
      type: int
      sample: 540000000
    size_vram:
      description: Bytes of that in GPU memory (C(0) on a CPU-only host).
      type: int
      sample: 0
    gpu_percent:
      description: Share of the model in GPU memory, 0 to 100.
      type: int
      sample: 100
    expires_at:
      description: When the runner unloads if it stays idle.
      type: str
      sample: "2026-11-25T12:05:00.123456789Z"
    forever:
      description: Whether the model was loaded with a negative keep_alive (it never expires).
      type: bool
      sample: false
    context_length:
      description: The context length the runner was started with.
      type: int
      sample: 4096
details:
  description: Per-model metadata from C(POST /api/show), one entry per installed model asked for.
  returned: when V(details) is in O(gather) or O(name) is set
  type: list
  elements: dict
  contains:
    name:
      description: The installed model's name, as C(/api/tags) shows it.
      type: str
      sample: gemma3:270m
    capabilities:
      description: What the model can do, for example V(completion), V(embedding), V(tools), V(vision).
      type: list
      elements: str
      sample: [completion]
    parameters:
      description: The model's default runner parameters as a dict; list parameters such as C(stop) are lists.
      type: dict
      sample: {"num_ctx": 4096, "stop": ["<end_of_turn>"], "temperature": 1}
    system:
      description: The system prompt, if the model has one.
      type: str
    template:
      description: The prompt template.
      type: str
    family:
      description: The model family.
      type: str
      sample: gemma3
    parameter_size:
      description: The parameter count as Ollama prints it.
      type: str
      sample: 268.10M
    quantization_level:
      description: The quantization of the weights.
      type: str
      sample: Q4_K_M
    context_length:
      description: The context length the model was trained with.
      type: int
      sample: 32768
missing:
  description: Names from O(name) that are not installed.
  returned: when O(name) is set
  type: list
  elements: str
  sample: []
"""

from ansible_collections.llmops.ollama.plugins.module_utils._common import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils._facts import details_entry, index_tags, running_entry
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_names

ARGUMENT_SPEC = dict(
    gather=dict(type="list", elements="str", choices=["version", "models", "running", "details"],
                default=["version", "models", "running"]),
    name=dict(type="list", elements="str", aliases=["model", "models"]),
)


def decide(params):
    """Which facts to read, and for which names: everything is validated before any request."""
    gather = set(params["gather"])
    wanted = None
    if params["name"] is not None:
        wanted = parse_names(params["name"])
        gather.add("details")
    return gather, wanted


def run(mod):
    gather, wanted = decide(mod.params)
    client = mod.client
    result = {"changed": False, "url": client.base_url}
    if "version" in gather:
        result["version"] = client.version()
    tags = client.tags() if gather & {"models", "details"} else []
    if "models" in gather:
        result["models"] = tags
    if "running" in gather:
        result["running"] = [running_entry(item) for item in client.ps()]
    if "details" in gather:
        by_key = {key: item["name"] for key, item in index_tags(tags).items()}
        names = list(by_key.values()) if wanted is None else [by_key[n.key] for n in wanted if n.key in by_key]
        details = []
        for name in names:
            show = client.show(name)
            if show is not None:  # deleted between the two calls
                details.append(details_entry(name, show))
        result["details"] = details
        if wanted is not None:
            result["missing"] = [n.raw for n in wanted if n.key not in by_key]
    return result


def main():
    OllamaModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
