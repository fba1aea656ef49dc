#!/usr/bin/python
#
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_alias
short_description: Give an installed Ollama model another name
version_added: 1.0.0
description:
  - Makes O(name) point at the installed model O(source), or removes the name O(name).
  - An alias is a copy of the source's manifest (C(POST /api/copy)); no model data is copied, and the alias has
    the same manifest digest as its source. Whether the alias already points at the source is decided by
    comparing the two digests from one C(GET /api/tags).
  - Never pulls. A missing O(source) fails the task; install it first with M(llmops.ollama.ollama_model).
  - Never loses a model by accident. Repointing O(name) is allowed when another installed name has the
    digest O(name) has now (O(name) is an alias of something that stays). When O(name) is the only name of
    its model (for example O(name=nomic-embed-text) while the embedding model is installed under that very
    name), repointing it would delete that model, so the task fails before any change, naming the model,
    unless O(force=true). Check mode predicts the same failure.
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
      - A O(source) that is not installed yet is predicted as V(changed), with a warning, because in a check run
        of a playbook the task that pulls it has only predicted the pull. A real run fails in that case.
  diff_mode:
    support: full
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  name:
    description:
      - The alias, a model name such as V(chat) (read as V(chat:latest)) or V(team/chat:v2).
      - Must not denote the same model as O(source).
    type: str
    required: true
    aliases: [alias]
  source:
    description:
      - The installed model the alias must point at.
      - Required with O(state=present).
      - With O(state=absent), optional; when given, the task refuses to delete a O(name) that denotes the same
        model as O(source).
    type: str
  force:
    description:
      - With O(state=present), repoint O(name) even when it is the only name of another model, which deletes
        that model (its data stays on disk only as long as another model shares it).
      - Without it such a task fails before any change, naming the model that would be lost.
    type: bool
    default: false
  state:
    description:
      - V(present) creates the alias, or repoints it when it points at another model (its digest differs).
      - V(absent) deletes the name O(name) only. The model data stays on disk as long as another name (the
        source) uses it. If O(name) is the only name of a model, deleting it deletes that model.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Ollama compares names case-insensitively per part, and so does this module; V(Chat) and V(chat:latest) are the
    same alias.
  - An alias and its source share one runner when loaded (see M(llmops.ollama.ollama_loaded)).
seealso:
  - module: llmops.ollama.ollama_model
  - module: llmops.ollama.ollama_loaded
  - ref: ansible_collections.llmops.ollama.docsite.private_registries
    description: Private registries, air-gapped hosts, digest pins and updates.
  - ref: ansible_collections.llmops.ollama.docsite.connection
    description: Connecting to Ollama, retries and error messages.
"""

EXAMPLES = r"""
- name: The model the apps use is called "chat"
  llmops.ollama.ollama_alias:
    name: chat
    source: qwen2.5:7b

- name: Switch "chat" to another model
  llmops.ollama.ollama_alias:
    name: chat
    source: gemma3:4b

- name: Replace a model with an alias on purpose (the model installed as "embed" is deleted)
  llmops.ollama.ollama_alias:
    name: embed
    source: nomic-embed-text
    force: true

- name: Remove the alias (the source model stays)
  llmops.ollama.ollama_alias:
    name: chat
    state: absent
"""

RETURN = r"""
alias:
  description: The alias as C(/api/tags) shows it (the shortest form of O(name)).
  returned: always
  type: str
  sample: chat:latest
source:
  description: The source as C(/api/tags) shows it; V(null) when O(source) was not given.
  returned: always
  type: str
  sample: qwen2.5:7b
digest:
  description:
    - The manifest digest the alias has after the task (the source's digest with O(state=present)).
    - V(null) when the alias does not exist after the task.
  returned: always
  type: str
  sample: 845dbda0ea48ed749caafd9e6037047aa19acfcfd82e704d7ca97d631a0b697e
previous_digest:
  description: The digest the alias had before the task, V(null) when it did not exist.
  returned: always
  type: str
  sample: null
diff:
  description: The alias before and after, as C(alias -> source@digest12) text.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Before the task; an empty string when the alias did not exist.
      type: str
      sample: ""
    after:
      description: After the task (predicted in check mode); an empty string when the alias does not exist.
      type: str
      sample: "chat:latest -> qwen2.5:7b@845dbda0ea48"
"""

from ansible_collections.llmops.ollama.plugins.module_utils._common import ModuleFailure, OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils._facts import diff_text, index_tags
from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidName, parse_name, short_digest

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["alias"]),
    source=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    force=dict(type="bool", default=False),
)


def decide(params):
    """Validate both names before any request; return (alias, source or None)."""
    try:
        alias = parse_name(params["name"])
    except InvalidName as exc:
        raise ModuleFailure(f"name: {exc}") from None
    source = None
    if params["source"] is not None:
        try:
            source = parse_name(params["source"])
        except InvalidName as exc:
            raise ModuleFailure(f"source: {exc}") from None
    if params["state"] == "present" and source is None:
        raise ModuleFailure("source is required with state=present")
    if source is not None and alias.key == source.key:
        raise ModuleFailure(f"name {alias.raw!r} and source {source.raw!r} are the same model ({alias.short}); an "
                            "alias needs a name of its own, and this module never deletes the source")
    return alias, source


def describe(alias_name, digest, index):
    """``chat:latest -> qwen2.5:7b@845dbda0ea48`` (the first other name with that digest), or ''."""
    if digest is None:
        return ""
    others = sorted(item["name"] for item in index.values()
                    if item.get("digest") == digest and item["name"] != alias_name)
    target = others[0] if others else "(no other name)"
    return f"{alias_name} -> {target}@{short_digest(digest)}"


def refuse_losing_a_model(current, source_name, index, client):
    """Fail when repointing ``current`` would delete the only name of its model (``force`` not set)."""
    digest = current.get("digest")
    others = [item["name"] for item in index.values() if item["name"] != current["name"] and digest
              and item.get("digest") == digest]
    if others:
        return
    raise ModuleFailure(f"{current['name']} on {client.base_url} is an installed model, not an alias: no other "
                        f"name has its digest {short_digest(digest)}, so pointing it at {source_name} "
                        f"would delete that model. Choose another alias name, or set force: true to replace "
                        "the model; nothing was changed")


def plan(mod, alias, source, current, source_entry, index):
    """What the task does, decided before anything changes: ``(action, digest after)``, action ``copy``,
    ``delete`` or None. Check mode, the diff and the real run all read it."""
    if mod.params["state"] == "absent":
        return ("delete" if current is not None else None), None
    client = mod.client
    if source_entry is None and not mod.check_mode:
        raise ModuleFailure(f"source {source.raw!r} is not installed on {client.base_url}, so {alias.raw!r} "
                            "cannot point at it; install it first (llmops.ollama.ollama_model), this module "
                            "never pulls")
    if source_entry is None:
        # A check run of a playbook whose earlier task pulls the source: predict the copy, as the real run will.
        mod.warn(f"check mode: source {source.raw!r} is not installed on {client.base_url} yet; the alias is "
                 "predicted, and a real run fails unless an earlier task installs the source "
                 "(llmops.ollama.ollama_model)")
    before = current.get("digest") if current else None
    after = source_entry.get("digest") if source_entry else None
    if current is not None and (source_entry is None or before != after) and not mod.params["force"]:
        refuse_losing_a_model(current, source_entry["name"] if source_entry else source.short, index, client)
    return ("copy" if source_entry is None or before != after else None), after


def run(mod):
    alias, source = decide(mod.params)
    client = mod.client
    index = index_tags(client.tags())
    current = index.get(alias.key)
    alias_name = current["name"] if current else alias.short
    before = current.get("digest") if current else None
    source_entry = index.get(source.key) if source else None
    result = {"changed": False, "alias": alias_name, "source": source_entry["name"] if source_entry else
              (source.short if source else None), "previous_digest": before}

    action, after = plan(mod, alias, source, current, source_entry, index)
    result["changed"] = action is not None
    if action == "copy" and not mod.check_mode:
        client.copy(source_entry["name"], alias.raw)
    elif action == "delete" and not mod.check_mode:
        # Deleted by someone else in between: the goal is reached, and nothing changed.
        result["changed"] = client.delete(current["name"], missing_ok=True)
    result["digest"] = after
    if mod.diff_mode:
        predicted = dict(index)
        predicted.pop(alias.key, None)
        after_text = describe(alias_name, after, predicted)
        if mod.params["state"] == "present" and source_entry is None:
            after_text = f"{alias_name} -> {source.short}@unknown (not installed yet)"
        result["diff"] = {"before": diff_text([text for text in [describe(alias_name, before, index)] if text]),
                          "after": diff_text([after_text] if after_text else [])}
    return result


def main():
    OllamaModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
