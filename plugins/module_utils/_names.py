# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Ollama model names, digests and keep_alive durations, parsed with the server's own rules.

Model names follow ``types/model/name.go`` of Ollama v0.24.0: ``[scheme://][host/][namespace/]model[:tag]``
with the defaults ``registry.ollama.ai``, ``library`` and ``latest``. Two names denote the same model when
their four parts are equal ignoring case. keep_alive values follow ``api.Duration.UnmarshalJSON``: numbers are
seconds (negative means forever), strings are Go durations with a unit; a string that spells a number is
that number (see parse_keep_alive).
"""

from __future__ import annotations

import math
import re

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
_MISSING = "!MISSING!"

# Longest part per kind (name.go isValidLen); every part needs at least one character.
_MAX_LEN = {"host": 350, "namespace": 80, "model": 80, "tag": 80}

# A keep_alive of this many seconds or more is "forever" for display purposes (the CLI says Forever past 20 years).
FOREVER_THRESHOLD_SECONDS = 20 * 365 * 24 * 3600
# Numbers at or above this overflow the server's float->int64 conversion and end up as "unload now".
_MAX_KEEP_ALIVE_SECONDS = 9223372036.0


class InvalidName(ValueError):
    """A model name the Ollama server would refuse or misread."""


class InvalidKeepAlive(ValueError):
    """A keep_alive value the Ollama server would answer with HTTP 400 (or misread)."""


def _alnum_or_underscore(ch):
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ("0" <= ch <= "9")


def _valid_part(kind, part):
    if not part or len(part) > _MAX_LEN[kind] or part == _MISSING:
        return False
    if not _alnum_or_underscore(part[0]):
        return False
    for ch in part[1:]:
        if ch in "_-":
            continue
        if ch == ".":
            if kind == "namespace":
                return False
            continue
        if ch == ":":
            if kind != "host":
                return False
            continue
        if not _alnum_or_underscore(ch):
            return False
    return True


def _cut_last(text, sep):
    """Split at the last ``sep``; empty halves become the missing marker, as name.go cutPromised does."""
    idx = text.rfind(sep)
    if idx < 0:
        return text, "", False
    return text[:idx] or _MISSING, text[idx + len(sep):] or _MISSING, True


class ModelName:
    """A parsed, fully qualified model name."""

    __slots__ = ("raw", "scheme", "host", "namespace", "model", "tag")

    def __init__(self, raw, scheme, host, namespace, model, tag):
        self.raw = raw
        self.scheme = scheme
        self.host = host
        self.namespace = namespace
        self.model = model
        self.tag = tag

    @property
    def key(self):
        """What Ollama compares: the four parts, ignoring case."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    @property
    def short(self):
        """The form ``/api/tags`` and ``/api/ps`` show (``DisplayShortest``)."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def full(self):
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    def __eq__(self, other):
        return isinstance(other, ModelName) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"ModelName({self.full!r})"


def _parse_bare(text):
    scheme = host = namespace = model = tag = ""
    rest = text
    if rest.rfind(":") > rest.rfind("/"):
        rest, tag, dummy = _cut_last(rest, ":")
    rest, model, promised = _cut_last(rest, "/")
    if not promised:
        return scheme, host, namespace, rest, tag
    rest, namespace, promised = _cut_last(rest, "/")
    if not promised:
        return scheme, host, rest, model, tag
    if "://" in rest:
        scheme, host = rest.split("://", 1)
    else:
        host = rest
    return scheme, host, namespace, model, tag


def parse_name(text):
    """Parse ``text`` like the Ollama server; raise InvalidName naming the bad part."""
    if not isinstance(text, str):
        raise InvalidName(f"model name {text!r} is not a string")
    if text != text.strip():
        raise InvalidName(f"model name {text!r} has leading or trailing white space")
    if text == "":
        raise InvalidName("model name is empty")
    scheme, host, namespace, model, tag = _parse_bare(text)
    name = ModelName(text, scheme or "https", host or DEFAULT_HOST, namespace or DEFAULT_NAMESPACE, model, tag or DEFAULT_TAG)
    for kind in ("host", "namespace", "model", "tag"):
        part = getattr(name, kind)
        if not _valid_part(kind, part):
            shown = "(empty)" if part in ("", _MISSING) else repr(part)
            raise InvalidName(
                f"invalid model name {text!r}: {kind} {shown} is not valid (expected [host/][namespace/]model[:tag]; "
                f"parts start with a letter, digit or '_' and contain only letters, digits, '_', '-'"
                f"{'' if kind == 'namespace' else ', ' + repr('.')}{', :' if kind == 'host' else ''}; "
                f"at most {_MAX_LEN[kind]} characters)"
            )
    lowered = name.tag.lower()
    if lowered in ("local", "cloud") or lowered.endswith("-cloud"):
        raise InvalidName(
            f"invalid model name {text!r}: Ollama reads the tag {name.tag!r} as a source suffix "
            f"(':local' / ':cloud'), not as a tag, so a local model cannot be managed under it"
        )
    return name


def same_model(left, right):
    """True when two names (strings or ModelName) denote the same Ollama model."""
    left = left if isinstance(left, ModelName) else parse_name(left)
    right = right if isinstance(right, ModelName) else parse_name(right)
    return left.key == right.key


def parse_names(values, option="name"):
    """Parse a list of names; fail on the first bad one, naming it. Duplicates (same model) are dropped."""
    result = []
    seen = set()
    for value in values:
        try:
            name = parse_name(value)
        except InvalidName as exc:
            raise InvalidName(f"{option}: {exc}") from None
        if name.key not in seen:
            seen.add(name.key)
            result.append(name)
    return result


def short_digest(digest):
    """The 12 hex characters Ollama shows for a manifest or blob digest."""
    if not digest:
        return ""
    digest = digest.split(":", 1)[-1]
    return digest[:12]


_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")


def bare_digest(digest):
    """The lower-case hex of a ``sha256:<hex>`` digest (as ``/api/tags`` and registries give it), None for none."""
    return (digest or "").split(":", 1)[-1].lower() or None


def parse_digest(text):
    """The lower-case hex of a digest a user gave (64 hex characters, ``sha256:`` optional), None when it is not one."""
    match = _DIGEST.match(text.strip())
    return match.group(1).lower() if match else None


# ---------------------------------------------------------------------------------------------------------------
# keep_alive

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_NUMBER = re.compile(r"([0-9]*)(\.[0-9]*)?")


def _go_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_go_duration(text):
    """Seconds for a Go ``time.ParseDuration`` string; raise InvalidKeepAlive with Go's own error text."""
    orig = text
    negative = False
    if text and text[0] in "+-":
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0.0
    if text == "":
        raise InvalidKeepAlive(f"time: invalid duration {_go_quote(orig)}")
    total = 0.0
    while text:
        match = _NUMBER.match(text)
        whole, frac = match.group(1), match.group(2) or ""
        if not whole and len(frac) <= 1:
            raise InvalidKeepAlive(f"time: invalid duration {_go_quote(orig)}")
        text = text[match.end():]
        idx = 0
        while idx < len(text) and text[idx] != "." and not ("0" <= text[idx] <= "9"):
            idx += 1
        unit, text = text[:idx], text[idx:]
        if not unit:
            raise InvalidKeepAlive(f"time: missing unit in duration {_go_quote(orig)}")
        if unit not in _UNITS:
            raise InvalidKeepAlive(f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(orig)}")
        total += float((whole or "0") + (frac if len(frac) > 1 else "")) * _UNITS[unit]
    if total > _MAX_KEEP_ALIVE_SECONDS:
        raise InvalidKeepAlive(f"time: invalid duration {_go_quote(orig)}")
    return -total if negative else total


class KeepAlive:
    """A validated keep_alive: what to send, and what it means."""

    __slots__ = ("wire", "seconds")

    def __init__(self, wire, seconds):
        self.wire = wire          # the JSON value sent to the server, unchanged from the user's input
        self.seconds = seconds    # float seconds, or None for forever

    @property
    def forever(self):
        return self.seconds is None

    @property
    def unload(self):
        return self.seconds == 0

    def describe(self):
        if self.forever:
            return "forever"
        return format_seconds(self.seconds)

    def __repr__(self):
        return f"KeepAlive({self.wire!r})"


_NUMBER_LIKE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def number_like(text):
    """The int or float a keep_alive string spells (``"-1"`` -> -1, ``"1.5"`` -> 1.5), else None."""
    if not _NUMBER_LIKE.fullmatch(text):
        return None
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    return float(text)


def parse_keep_alive(value, option="keep_alive"):
    """Validate ``value`` exactly as Ollama's ``api.Duration`` does and explain what the server would refuse.

    Numbers are seconds and negative numbers mean forever. A string that spells a number (``"300"``, ``"-1"``,
    ``"0"``, ``"-1.5"``) is that number: Jinja templating often turns a number into a string (ansible-core before
    2.19 does so for ``"{{ item.keep_alive }}"``), and the server would refuse it (``time: missing unit in
    duration``), so it is sent as a JSON number.  Other strings need a unit (``"5m"``, ``"-1m"``, ``"300s"``) and
    are sent unchanged.  Booleans and other types are refused.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidKeepAlive(
            f"{option}: {value!r} is not a duration (Ollama answers 400 Unsupported type); "
            "use a number of seconds (-1 = forever) or a string with a unit such as '5m'"
        )
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise InvalidKeepAlive(f"{option}: {value!r} is not a number of seconds")
        if value >= _MAX_KEEP_ALIVE_SECONDS:
            raise InvalidKeepAlive(
                f"{option}: {value!r} seconds overflows the server's duration and would unload the model at once; "
                "use a negative number (-1) to keep it forever"
            )
        return KeepAlive(value, None if value < 0 else float(value))
    if isinstance(value, str):
        number = number_like(value)
        if number is not None:
            return parse_keep_alive(number, option)
        try:
            seconds = parse_go_duration(value)
        except InvalidKeepAlive as exc:
            raise InvalidKeepAlive(f"{option}: {value!r} is refused by Ollama ({exc})") from None
        return KeepAlive(value, None if seconds < 0 else seconds)
    raise InvalidKeepAlive(
        f"{option}: {value!r} is not a duration (Ollama answers 400 Unsupported type '{type(value).__name__}')"
    )


def format_seconds(seconds):
    """Short human form: 300 -> '5m', 90 -> '1m30s', 0.5 -> '0.5s'."""
    if seconds is None:
        return "forever"
    if seconds != int(seconds) or seconds < 60:
        return f"{seconds:g}s"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if secs:
        out += f"{secs}s"
    return out
