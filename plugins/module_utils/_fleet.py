# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The fleet report: what every host runs, side by side, and where hosts drift apart.

Input: one record per host, ``{host: {"url", "version", "models", "running", "verify", "error"}}``, where
``models`` and ``running`` are what M(llmops.ollama.ollama_info) returns (``/api/tags`` and ``/api/ps``),
``verify`` the ``models`` of an M(llmops.ollama.ollama_loaded) run with ``verify=true`` (or None), and ``error``
the message of a host whose Ollama did not answer (or None).

Drift rules (one home, here):

* **digest**: a model name (compared the way Ollama compares names) whose manifest digest differs between hosts.
  The cells that hold a digest other than the one most hosts hold are marked; on a tie every cell is marked.
* **missing**: a model installed on some hosts and not on others; the hosts without it are marked.
* **version**: hosts that run another Ollama version than most hosts (on a tie, every host) are marked.
* **unreachable**: a host whose Ollama did not answer; nothing can be said about it, so it counts as drift.

Which models are loaded, and for how long, is shown and never counts as drift: it changes with traffic.
"""

from __future__ import annotations

from collections import Counter

from ansible_collections.llmops.ollama.plugins.module_utils._facts import entry_key, format_bytes
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_name, short_digest


def _display_name(item):
    """The shortest form of a model name (as ``/api/tags`` shows it), or the raw text if it does not parse."""
    raw = item.get("name") or item.get("model") or ""
    try:
        return parse_name(raw).short
    except ValueError:
        return raw


def _marked(values):
    """Which of ``values`` (host -> value) differ from the most common value; all of them on a tie."""
    counts = Counter(values.values())
    if len(counts) < 2:
        return set()
    ranked = counts.most_common()
    if ranked[0][1] == ranked[1][1]:
        return set(values)
    majority = ranked[0][0]
    return {host for host, value in values.items() if value != majority}


def _host_row(name, record):
    error = record.get("error")
    return {
        "name": name,
        "url": record.get("url") or "",
        "version": None if error else record.get("version"),
        "error": error,
        "verify_error": record.get("verify_error") or "",
        "models": 0 if error else len(record.get("models") or []),
        "loaded": 0 if error else len(record.get("running") or []),
        "version_drift": False,
    }


def _loaded_rows(name, record):
    rows = []
    for item in record.get("running") or []:
        size = item.get("size") or 0
        rows.append({
            "host": name,
            "name": _display_name(item),
            "digest": short_digest(item.get("digest")),
            "size": size,
            "size_human": format_bytes(size),
            "gpu_percent": item.get("gpu_percent"),
            "context_length": item.get("context_length"),
            "expires_at": item.get("expires_at"),
            "forever": bool(item.get("forever")),
            "expiry": "forever" if item.get("forever") else (item.get("expires_at") or ""),
        })
    return rows


def _verify_rows(name, record):
    rows = []
    for item in record.get("verify") or []:
        figures = item.get("verify")
        if not figures:
            continue
        rows.append(dict({key: figures.get(key) for key in (
            "kind", "first_token_ms", "tokens_per_second", "prompt_tokens_per_second", "load_ms", "total_ms",
            "tokens", "embedding_length")}, host=name, name=_display_name(item)))
    return rows


def fleet_report(hosts):
    """The report of ``hosts`` (host name -> record, see the module docstring) as one dict for templates."""
    names = sorted(hosts)
    reachable = [h for h in names if not hosts[h].get("error")]
    host_rows = [_host_row(h, hosts[h]) for h in names]
    findings = []

    for row in host_rows:
        if row["error"]:
            findings.append({"kind": "unreachable", "host": row["name"],
                             "text": f"{row['name']}: Ollama did not answer ({row['error']})"})

    versions = {h: str(hosts[h].get("version")) for h in reachable}
    version_marked = _marked(versions)
    for row in host_rows:
        row["version_drift"] = row["name"] in version_marked
    if version_marked:
        spread = Counter(versions.values())
        listing = "; ".join(f"{v} on {', '.join(h for h in reachable if versions[h] == v)}" for v in sorted(spread))
        findings.append({"kind": "version", "host": None, "text": f"Ollama versions differ: {listing}"})

    # model key -> host -> /api/tags entry
    by_key = {}
    display = {}
    for host in reachable:
        for item in hosts[host].get("models") or []:
            key = entry_key(item)
            if key is None:
                continue
            by_key.setdefault(key, {})[host] = item
            display.setdefault(key, _display_name(item))
    model_rows = []
    for key in sorted(by_key, key=lambda k: display[k]):
        present = by_key[key]
        loaded_on = {h for h in reachable for r in hosts[h].get("running") or [] if entry_key(r) == key}
        digests = {h: short_digest(item.get("digest")) for h, item in present.items()}
        digest_marked = _marked(digests)
        missing = [h for h in reachable if h not in present]
        cells = {}
        for host in names:
            if host not in reachable:
                cells[host] = {"state": "unknown", "drift": True, "digest": "", "size": None, "size_human": "",
                               "loaded": False, "text": "?"}
            elif host in present:
                item = present[host]
                size = item.get("size") or 0
                cells[host] = {"state": "present", "drift": host in digest_marked, "digest": digests[host],
                               "size": size, "size_human": format_bytes(size), "loaded": host in loaded_on,
                               "text": f"{digests[host]} ({format_bytes(size)})"}
            else:
                cells[host] = {"state": "missing", "drift": True, "digest": "", "size": None, "size_human": "",
                               "loaded": False, "text": "missing"}
        drift = []
        if digest_marked:
            drift.append("digest")
            spread = "; ".join(f"{d} on {', '.join(sorted(h for h in digests if digests[h] == d))}"
                               for d in sorted(set(digests.values())))
            findings.append({"kind": "digest", "host": None, "model": display[key],
                             "text": f"{display[key]}: different digests: {spread}"})
        if missing:
            drift.append("missing")
            findings.append({"kind": "missing", "host": None, "model": display[key],
                             "text": f"{display[key]}: missing on {', '.join(missing)}"})
        model_rows.append({"name": display[key], "cells": cells, "drift": drift,
                           "digests": sorted(set(digests.values()))})

    loaded = [row for h in reachable for row in _loaded_rows(h, hosts[h])]
    verify = [row for h in reachable for row in _verify_rows(h, hosts[h])]
    return {
        "hosts": host_rows,
        "host_names": names,
        "models": model_rows,
        "loaded": loaded,
        "verify": verify,
        "findings": findings,
        "drift": [f["text"] for f in findings],
        "has_drift": bool(findings),
        "summary": (f"{len(names)} hosts, {len(model_rows)} models, {len(loaded)} loaded: "
                    + (f"{len(findings)} drift findings" if findings else "no drift")),
    }
