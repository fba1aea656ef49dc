# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Loaded models (runners): which runner serves a name, how to unload it, and waiting until memory is freed.

Ollama has no unload endpoint: a generate request with an empty prompt and ``keep_alive: 0`` asks the scheduler
to let the runner go (it does so for embedding-only models too, before any capability check). The request
names an *installed* model; the scheduler finds the runner by the model's weights, so any installed name with
the same manifest digest (an alias) reaches the same runner. A runner whose every name was deleted can no longer
be reached: it stays in memory until its keep_alive expires or the server restarts.
"""

from __future__ import annotations

import time

from ansible_collections.llmops.ollama.plugins.module_utils._facts import entry_key

UNLOAD_POLL_SECONDS = 0.2


def runner_for(running, key, digest):
    """The ``/api/ps`` entry serving the model with name key ``key``: the same name, else the same digest."""
    for entry in running:
        if entry_key(entry) == key:
            return entry
    for entry in running:
        if digest and entry.get("digest") == digest:
            return entry
    return None


def unload_name(index, runner):
    """An installed name (``/api/tags`` entries by key) that reaches ``runner``, or None when none does."""
    item = index.get(entry_key(runner))
    if item is not None:
        return item["name"]
    for item in sorted(index.values(), key=lambda entry: entry["name"]):
        if runner.get("digest") and item.get("digest") == runner["digest"]:
            return item["name"]
    return None


def unreachable_message(runner):
    """Why a runner cannot be unloaded: none of its names is installed any more."""
    return (f"{runner.get('name')} is loaded, but no installed model has its name or digest: Ollama unloads a model "
            "only by the name of an installed model, and this one was deleted while loaded. It stays in memory until "
            f"its keep_alive expires ({runner.get('expires_at')}) or the server restarts")


def unload(client, name):
    """Ask Ollama to unload the runner of the installed model ``name`` (asynchronous on the server)."""
    client.generate({"model": name, "prompt": "", "keep_alive": 0})


def wait_unloaded(client, runners, timeout, clock=time.monotonic, sleep=time.sleep):
    """Poll /api/ps until none of ``runners`` (``/api/ps`` entries) is listed; return the names still listed."""
    keys = {entry_key(entry) for entry in runners}
    deadline = clock() + timeout
    while True:
        still = [item for item in client.ps() if entry_key(item) in keys]
        if not still or clock() >= deadline:
            return [item.get("name") for item in still]
        sleep(UNLOAD_POLL_SECONDS)
