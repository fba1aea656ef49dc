# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The facts helpers, fed with the exact shapes Ollama v0.24.0 sends (ollama-api.md §1.3, §1.4, §1.8)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._facts import (
    context_length,
    details_entry,
    entry_key,
    expected_context_length,
    format_bytes,
    gpu_percent,
    is_forever,
    parse_parameters,
    parse_time,
    running_entry,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text,expected", [
    ("2026-11-25T12:05:00.123456789Z", datetime.datetime(2026, 11, 25, 12, 5, 0, 123456, tzinfo=UTC)),
    ("2026-11-25T12:05:00Z", datetime.datetime(2026, 11, 25, 12, 5, 0, tzinfo=UTC)),
    ("2026-11-25T13:05:00.5+01:00", datetime.datetime(2026, 11, 25, 12, 5, 0, 500000, tzinfo=UTC)),
    ("2026-11-25T07:05:00-05:00", datetime.datetime(2026, 11, 25, 12, 5, 0, tzinfo=UTC)),
])
def test_parse_time_reads_go_rfc3339_nano(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", [None, "", "0001-01-01", "2026-13-01T00:00:00Z", "yesterday"])
def test_parse_time_returns_none_for_what_does_not_parse(text):
    assert parse_time(text) is None


def test_forever_is_the_far_future_expiry_of_a_negative_keep_alive():
    # what the real server showed for keep_alive -1 on 2026-11-25 (MaxInt64 ns ahead)
    assert is_forever("2319-03-07T22:46:45.174369066Z", NOW) is True
    assert is_forever("2026-11-25T12:05:00Z", NOW) is False
    assert is_forever("2036-11-25T12:05:00Z", NOW) is False   # 10 years: long, but a real timeout
    assert is_forever(None, NOW) is False


@pytest.mark.parametrize("size,vram,percent", [
    (540000000, 0, 0), (1000, 1000, 100), (1000, 755, 76), (0, 0, 0), (None, 5, 0),
])
def test_gpu_percent(size, vram, percent):
    assert gpu_percent(size, vram) == percent


def test_running_entry_from_a_real_ps_item():
    item = {"name": "127.0.0.1:52945/library/gemma3:270m", "model": "127.0.0.1:52945/library/gemma3:270m",
            "size": 477798912, "digest": "9ef47bd2b59e", "details": {"family": "gemma3"},
            "expires_at": "2319-03-07T22:46:45.174369066Z", "size_vram": 0, "context_length": 4096}
    entry = running_entry(item, NOW)
    assert entry == {"name": item["name"], "model": item["name"], "digest": "9ef47bd2b59e", "size": 477798912,
                     "size_vram": 0, "gpu_percent": 0, "expires_at": item["expires_at"], "forever": True,
                     "context_length": 4096, "details": {"family": "gemma3"}}


def test_parse_parameters_types_and_lists():
    text = ('num_ctx                        4096\nstop                           "<end_of_turn>"\n'
            'stop                           "<eos>"\ntemperature                    0.7\n'
            'num_predict                    1e+06\npenalize_newline               false')
    assert parse_parameters(text) == {"num_ctx": 4096, "stop": ["<end_of_turn>", "<eos>"], "temperature": 0.7,
                                      "num_predict": 1000000, "penalize_newline": False}
    assert parse_parameters('stop                           "x"') == {"stop": ["x"]}
    assert parse_parameters(None) == {}


def test_context_length_from_model_info():
    assert context_length({"model_info": {"general.architecture": "bert", "bert.context_length": 512}}) == 512
    assert context_length({"model_info": {"llama.context_length": 8192}}) == 8192
    assert context_length({"model_info": {}}) is None


def test_details_entry():
    show = {"capabilities": ["embedding"], "parameters": "num_ctx                        256",
            "details": {"family": "bert", "parameter_size": "22.57M", "quantization_level": "F16"},
            "model_info": {"general.architecture": "bert", "bert.context_length": 512}}
    entry = details_entry("all-minilm:l6-v2", show)
    assert entry["capabilities"] == ["embedding"]
    assert entry["parameters"] == {"num_ctx": 256}
    assert entry["context_length"] == 512
    assert entry["family"] == "bert" and entry["quantization_level"] == "F16"


def test_entry_key_matches_names_the_way_ollama_does():
    assert entry_key({"name": "gemma3:latest"}) == entry_key({"model": "registry.ollama.ai/library/GEMMA3"})
    assert entry_key({"name": "127.0.0.1:52945/library/gemma3:270m"}) != entry_key({"name": "gemma3:270m"})
    assert entry_key({"name": "bad name"}) is None
    assert entry_key({}) is None


@pytest.mark.parametrize("size,text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (4000000, "4.0 MB"),
                                       (540000000, "540 MB"), (477798912, "478 MB"), (12500000000, "12.5 GB"),
                                       (2.5e12, "2.5 TB"), (None, "0 B")])
def test_format_bytes(size, text):
    assert format_bytes(size) == text


GEMMA = {"capabilities": ["completion"], "model_info": {"general.architecture": "gemma3", "gemma3.context_length": 32768}}
MINILM = {"capabilities": ["embedding"], "model_info": {"general.architecture": "bert", "bert.context_length": 512}}
VISION = {"capabilities": ["completion", "vision"], "model_info": {}}


@pytest.mark.parametrize("num_ctx,show,expected", [
    (8192, GEMMA, 8192),
    (65536, GEMMA, 32768),   # cut to the trained context
    (8192, MINILM, 512),     # what the real server shows for all-minilm asked for 8192
    (1, GEMMA, 4),           # the scheduler's minimum
    (512, VISION, 2048),     # vision models get at least 2048; no trained context known: not cut
])
def test_expected_context_length(num_ctx, show, expected):
    assert expected_context_length(num_ctx, show) == expected
