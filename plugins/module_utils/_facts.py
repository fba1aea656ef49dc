# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Turn Ollama API objects into the facts the modules return (one place, so every module reports alike)."""

from __future__ import annotations

import datetime
import json
import re

from ansible_collections.llmops.ollama.plugins.module_utils._names import FOREVER_THRESHOLD_SECONDS, parse_name

_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text):
    """Parse Go's RFC 3339 (nanosecond) time text into an aware datetime; None when it does not parse."""
    match = _TIME.match(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = match.group(8)
    if zone == "Z":
        tz = datetime.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def is_forever(expires_at, now=None):
    """True for the far-future expiry Ollama sets for a negative keep_alive (about 292 years ahead)."""
    when = parse_time(expires_at)
    if when is None:
        return False
    return (when - (now or _now())).total_seconds() > FOREVER_THRESHOLD_SECONDS


def gpu_percent(size, size_vram):
    """Share of the model in GPU memory, 0-100 (0 when the size is unknown)."""
    if not size:
        return 0
    return int(round(100.0 * (size_vram or 0) / size))


def running_entry(item, now=None):
    """One ``/api/ps`` entry with ``gpu_percent``, ``forever`` and ``loaded``."""
    size = item.get("size") or 0
    size_vram = item.get("size_vram") or 0
    return {
        "name": item.get("name") or item.get("model"),
        "model": item.get("model") or item.get("name"),
        "digest": item.get("digest"),
        "size": size,
        "size_vram": size_vram,
        "gpu_percent": gpu_percent(size, size_vram),
        "expires_at": item.get("expires_at"),
        "forever": is_forever(item.get("expires_at"), now),
        "context_length": item.get("context_length"),
        "details": item.get("details") or {},
    }


def parse_parameters(text):
    """The ``parameters`` text of ``/api/show`` as a dict.

    Each line is ``fmt.Sprintf("%-30s %#v", key, value)``: strings double quoted, numbers bare (``1e+06``);
    list parameters such as ``stop`` repeat the key, and come back as lists.
    """
    collected = {}
    for line in (text or "").splitlines():
        key, dummy, raw = line.strip().partition(" ")
        if key:
            collected.setdefault(key, []).append(_parameter_value(raw.strip()))
    return {
        key: values if key in _LIST_PARAMETERS or len(values) > 1 else values[0]
        for key, values in collected.items()
    }


_LIST_PARAMETERS = ("stop",)


def _parameter_value(raw):
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.strip('"')
    if raw in ("true", "false"):
        return raw == "true"
    try:
        number = float(raw)
    except ValueError:
        return raw
    if number.is_integer() and "." not in raw and "e" not in raw.lower():
        return int(number)
    if number.is_integer() and abs(number) < 1e15:
        return int(number)
    return number


def context_length(show):
    """The trained context length of a model, from ``model_info`` (``<arch>.context_length``)."""
    info = show.get("model_info") or {}
    arch = info.get("general.architecture")
    if arch and f"{arch}.context_length" in info:
        return info[f"{arch}.context_length"]
    for key, value in info.items():
        if key.endswith(".context_length"):
            return value
    return None


def details_entry(name, show):
    """The facts of one model from its ``/api/show`` answer."""
    details = show.get("details") or {}
    return {
        "name": name,
        "capabilities": show.get("capabilities") or [],
        "parameters": parse_parameters(show.get("parameters")),
        "system": show.get("system"),
        "template": show.get("template"),
        "license": show.get("license"),
        "family": details.get("family"),
        "families": details.get("families"),
        "format": details.get("format"),
        "parameter_size": details.get("parameter_size"),
        "quantization_level": details.get("quantization_level"),
        "parent_model": details.get("parent_model"),
        "context_length": context_length(show),
        "modified_at": show.get("modified_at"),
    }


def entry_key(item):
    """The name key (see ``ModelName.key``) of a ``/api/tags`` or ``/api/ps`` entry; None if it does not parse."""
    try:
        return parse_name(item.get("name") or item.get("model") or "").key
    except ValueError:
        return None


def index_tags(tags):
    """``/api/tags`` entries by name key (entries whose name does not parse are skipped, as Ollama skips them)."""
    return {key: item for key, item in ((entry_key(item), item) for item in tags) if key is not None}


def diff_text(lines):
    """One diff side as text, one line each: Ansible's default callback renders strings (and dicts), not lists."""
    return "".join(f"{line}\n" for line in lines)


def format_bytes(size):
    """Short human form of a byte count, in the decimal units Ollama prints: 540000000 -> '540 MB'."""
    size = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:.0f} {unit}" if unit == "B" or size >= 100 else f"{size:.1f} {unit}"
        size /= 1000.0
    return f"{size:.1f} TB"


def expected_context_length(num_ctx, show):
    """The ``context_length`` ``/api/ps`` will show for a load with ``num_ctx``.

    The scheduler raises ``num_ctx`` to at least 4 (2048 for vision models) and the runner clamps it to the
    context the model was trained with (v0.24.0 sched.go, llm/server.go), so asking an all-minilm model
    (trained on 512) for 8192 gives 512.
    """
    floor = 2048 if "vision" in (show.get("capabilities") or []) else 4
    value = max(int(num_ctx), floor)
    trained = context_length(show)
    if isinstance(trained, int) and trained > 0:
        value = min(value, trained)
    return value
