# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model names and keep_alive, case by case from reference/ollama-api.md §A and §B."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._names import (
    InvalidKeepAlive,
    InvalidName,
    bare_digest,
    format_seconds,
    parse_digest,
    parse_keep_alive,
    parse_name,
    parse_names,
    same_model,
    short_digest,
)

# input -> (full name, DisplayShortest) — §A.2
VALID = [
    ("llama3", "registry.ollama.ai/library/llama3:latest", "llama3:latest"),
    ("llama3:latest", "registry.ollama.ai/library/llama3:latest", "llama3:latest"),
    ("library/llama3", "registry.ollama.ai/library/llama3:latest", "llama3:latest"),
    ("registry.ollama.ai/library/llama3:latest", "registry.ollama.ai/library/llama3:latest", "llama3:latest"),
    ("ollama.com/library/llama3", "ollama.com/library/llama3:latest", "ollama.com/library/llama3:latest"),
    ("localhost:5000/ns/model:tag", "localhost:5000/ns/model:tag", "localhost:5000/ns/model:tag"),
    ("http://localhost:5000/ns/model:tag", "localhost:5000/ns/model:tag", "localhost:5000/ns/model:tag"),
    ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
     "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"),
    ("LLama3:Latest", "registry.ollama.ai/library/LLama3:Latest", "LLama3:Latest"),
    ("user/model:v1", "registry.ollama.ai/user/model:v1", "user/model:v1"),
    ("qwen2.5:7b", "registry.ollama.ai/library/qwen2.5:7b", "qwen2.5:7b"),
    ("127.0.0.1:5001/library/gemma3:270m", "127.0.0.1:5001/library/gemma3:270m", "127.0.0.1:5001/library/gemma3:270m"),
    ("REGISTRY.OLLAMA.AI/library/x", "REGISTRY.OLLAMA.AI/library/x:latest", "x:latest"),
]

INVALID = [
    "localhost:5000/model",  # localhost:5000 is read as a namespace, and ':' is host-only
    "a/b/c/d",
    "llama3:",
    ":latest",
    "x:y:z",
    "my.ns/model",  # '.' is not allowed in a namespace
    "model name",
    "-model",
    "llama3@sha256:abc",
    "",
    " llama3",
    "m" * 81,
    "llama3:" + "t" * 81,
]


@pytest.mark.parametrize("text,full,short", VALID)
def test_valid_names_parse_like_the_server(text, full, short):
    name = parse_name(text)
    assert name.full == full
    assert name.short == short


def test_scheme_is_kept_apart():
    assert parse_name("http://localhost:5000/ns/model:tag").scheme == "http"
    assert parse_name("llama3").scheme == "https"


@pytest.mark.parametrize("text", INVALID)
def test_invalid_names_are_refused_with_the_value_named(text):
    with pytest.raises(InvalidName) as exc:
        parse_name(text)
    assert repr(text) in str(exc.value) or (text == "" and "empty" in str(exc.value))


@pytest.mark.parametrize("text", ["gemma3:local", "gemma3:cloud", "gpt-oss:120b-cloud", "x:Cloud"])
def test_source_suffix_tags_are_refused(text):
    with pytest.raises(InvalidName, match="source suffix"):
        parse_name(text)


@pytest.mark.parametrize("left,right", [
    ("llama3", "llama3:latest"),
    ("llama3", "library/llama3:latest"),
    ("llama3", "registry.ollama.ai/library/llama3:latest"),
    ("LLAMA3", "llama3"),
    ("Qwen2.5:7B", "qwen2.5:7b"),
    ("127.0.0.1:5001/Library/Gemma3:270M", "127.0.0.1:5001/library/gemma3:270m"),
])
def test_same_model(left, right):
    assert same_model(left, right)


@pytest.mark.parametrize("left,right", [
    ("llama3", "ollama.com/library/llama3"),  # another host is another model
    ("llama3", "llama3:8b"),
    ("user/llama3", "llama3"),
    ("localhost:5000/library/x", "localhost:5001/library/x"),
])
def test_different_models(left, right):
    assert not same_model(left, right)


def test_parse_names_drops_duplicates_and_names_the_bad_entry():
    names = parse_names(["gemma3", "gemma3:latest", "qwen2.5:7b"])
    assert [n.short for n in names] == ["gemma3:latest", "qwen2.5:7b"]
    with pytest.raises(InvalidName, match=r"name: invalid model name 'bad name'"):
        parse_names(["gemma3", "bad name"])


def test_short_digest():
    assert short_digest("sha256:e7d36fb2c3b3293cfe56d55889867a064b3a2b22e98335f2e6e8a387e081d6be") == "e7d36fb2c3b3"
    assert short_digest("e7d36fb2c3b3293cfe56d55889867a064b3a2b22e98335f2e6e8a387e081d6be") == "e7d36fb2c3b3"
    assert short_digest(None) == ""


HEX = "e7d36fb2c3b3293cfe56d55889867a064b3a2b22e98335f2e6e8a387e081d6be"


@pytest.mark.parametrize("value,bare", [
    ("sha256:" + HEX, HEX), (HEX, HEX), ("sha256:" + HEX.upper(), HEX), (None, None), ("", None),
])
def test_bare_digest(value, bare):
    assert bare_digest(value) == bare


@pytest.mark.parametrize("value,parsed", [
    ("sha256:" + HEX, HEX), (" " + HEX.upper() + " ", HEX), ("sha512:" + HEX, None), (HEX[:-1], None),
    ("sha256:", None), ("latest", None),
])
def test_parse_digest(value, parsed):
    assert parse_digest(value) == parsed


# value -> seconds (None = forever) — §B
KEEP_ALIVE_OK = [
    (0, 0.0),
    (0.0, 0.0),
    (300, 300.0),
    (1.5, 1.5),
    (-1, None),
    (-0.5, None),
    ("0s", 0.0),
    ("5m", 300.0),
    ("1h", 3600.0),
    ("1h30m", 5400.0),
    ("300ms", 0.3),
    ("24h", 86400.0),
    ("-1m", None),
    ("-1s", None),
    ("+5m", 300.0),
    (".5h", 1800.0),
    ("1.5m", 90.0),
    ("2\u00b5s", 2e-6),
]


@pytest.mark.parametrize("value,seconds", KEEP_ALIVE_OK)
def test_keep_alive_accepted_like_the_server(value, seconds):
    parsed = parse_keep_alive(value)
    assert parsed.wire == value  # sent unchanged
    if seconds is None:
        assert parsed.forever
    else:
        assert not parsed.forever
        assert parsed.seconds == pytest.approx(seconds)
    assert parsed.unload == (seconds == 0)


# A string that spells a number is that number, sent as a JSON number (Jinja before ansible-core 2.19 makes
# "-1" of the role's default keep_alive -1; the server would answer a unit-less string with HTTP 400).
KEEP_ALIVE_NUMBER_LIKE = [
    ("-1", -1, None),
    ("300", 300, 300.0),
    ("0", 0, 0.0),
    ("-0", 0, 0.0),
    ("+300", 300, 300.0),
    ("-1.5", -1.5, None),
    ("1.5", 1.5, 1.5),
    (".5", 0.5, 0.5),
    ("10.", 10.0, 10.0),
]


@pytest.mark.parametrize("value,wire,seconds", KEEP_ALIVE_NUMBER_LIKE)
def test_number_like_keep_alive_string_is_the_number(value, wire, seconds):
    parsed = parse_keep_alive(value)
    assert parsed.wire == wire
    assert type(parsed.wire) is type(wire)  # pylint: disable=unidiomatic-typecheck
    assert parsed.seconds == seconds
    assert parsed.forever == (seconds is None)


def test_number_like_keep_alive_string_still_checks_overflow():
    with pytest.raises(InvalidKeepAlive) as exc:
        parse_keep_alive("9223372036")
    assert "overflows" in str(exc.value)


# value -> text the server would answer with (HTTP 400)
KEEP_ALIVE_REFUSED = [
    ("1e3", 'time: unknown unit "e" in duration "1e3"'),
    (" 300", 'time: invalid duration " 300"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("5x", 'time: unknown unit "x" in duration "5x"'),
    ("", 'time: invalid duration ""'),
    ("m", 'time: invalid duration "m"'),
    (".s", 'time: invalid duration ".s"'),
    ("3000000h", 'time: invalid duration "3000000h"'),
]


@pytest.mark.parametrize("value,server_text", KEEP_ALIVE_REFUSED)
def test_keep_alive_refused_with_the_servers_reason(value, server_text):
    with pytest.raises(InvalidKeepAlive) as exc:
        parse_keep_alive(value)
    assert server_text in str(exc.value)
    assert repr(value) in str(exc.value)


@pytest.mark.parametrize("value", [True, False, None, {}, [], float("nan"), 1e10, 9223372036])
def test_keep_alive_wrong_types_and_overflow_refused(value):
    with pytest.raises(InvalidKeepAlive):
        parse_keep_alive(value)


def test_keep_alive_describe():
    assert parse_keep_alive(-1).describe() == "forever"
    assert parse_keep_alive("1h30m").describe() == "1h30m"
    assert parse_keep_alive(90).describe() == "1m30s"
    assert format_seconds(0.5) == "0.5s"
