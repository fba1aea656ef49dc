# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import socket

from ansible_collections.llmops.ollama.plugins.modules import ollama_info
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

TAGS = {"models": [
    {"name": "gemma3:270m", "model": "gemma3:270m", "digest": "e7d36fb2c3b3" + "0" * 52, "size": 291554930,
     "modified_at": "2026-11-25T12:00:01.123456789Z",
     "details": {"format": "gguf", "family": "gemma3", "parameter_size": "268.10M", "quantization_level": "Q4_K_M"}},
    {"name": "all-minilm:latest", "model": "all-minilm:latest", "digest": "1b226e2802db" + "0" * 52, "size": 45960996,
     "modified_at": "2026-11-25T11:00:01Z", "details": {"format": "gguf", "family": "bert"}},
]}

PS = {"models": [
    {"name": "gemma3:270m", "model": "gemma3:270m", "size": 540000000, "size_vram": 405000000,
     "digest": "e7d36fb2c3b3" + "0" * 52, "details": {}, "expires_at": "2318-08-21T12:00:00.123456789Z",
     "context_length": 4096},
    {"name": "all-minilm:latest", "model": "all-minilm:latest", "size": 100, "size_vram": 0,
     "digest": "1b226e2802db" + "0" * 52, "details": {}, "expires_at": "2026-11-25T12:05:00Z",
     "context_length": 256},
]}

SHOW_GEMMA = {
    "parameters": 'num_ctx                        4096\nstop                           "<end_of_turn>"\n'
                  'temperature                    1\ntop_p                          0.95\n'
                  'num_predict                    1e+06',
    "template": "{{ .Prompt }}",
    "system": "You are terse.",
    "details": {"parent_model": "", "format": "gguf", "family": "gemma3", "families": ["gemma3"],
                "parameter_size": "268.10M", "quantization_level": "Q4_K_M"},
    "model_info": {"general.architecture": "gemma3", "gemma3.context_length": 32768},
    "capabilities": ["completion"],
    "modified_at": "2026-11-25T12:00:01Z",
}


def test_default_gathers_version_models_running(server):
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("GET", "/api/ps", Reply(body=PS))
    result = run_module(ollama_info, {"url": server.url})
    assert result["failed"] is False
    assert result["changed"] is False
    assert result["version"] == "0.24.0"
    assert [m["name"] for m in result["models"]] == ["gemma3:270m", "all-minilm:latest"]
    gemma, minilm = result["running"]
    assert gemma["gpu_percent"] == 75 and gemma["forever"] is True
    assert minilm["gpu_percent"] == 0 and minilm["forever"] is False
    assert "details" not in result
    assert not server.calls("POST", "/api/show")


def test_name_implies_details_and_matches_like_ollama(server):
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run_module(ollama_info, {"url": server.url, "gather": ["models"], "name": ["GEMMA3:270M", "qwen2.5:7b"]})
    assert result["failed"] is False
    assert result["missing"] == ["qwen2.5:7b"]
    (details,) = result["details"]
    assert details["name"] == "gemma3:270m"
    assert details["parameters"] == {"num_ctx": 4096, "stop": ["<end_of_turn>"], "temperature": 1,
                                     "top_p": 0.95, "num_predict": 1000000}
    assert details["capabilities"] == ["completion"]
    assert details["context_length"] == 32768
    assert details["system"] == "You are terse."
    # show was asked for the installed spelling, once
    assert [c.json for c in server.calls("POST", "/api/show")] == [{"model": "gemma3:270m"}]


def test_details_for_every_model(server):
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run_module(ollama_info, {"url": server.url, "gather": ["details"]})
    assert [d["name"] for d in result["details"]] == ["gemma3:270m", "all-minilm:latest"]
    assert "models" not in result and "version" not in result


def test_check_mode_reads_and_reports_unchanged(server):
    server.on("GET", "/api/ps", Reply(body={"models": []}))
    result = run_module(ollama_info, {"url": server.url, "gather": ["running"]}, check_mode=True)
    assert result["failed"] is False and result["changed"] is False
    assert result["running"] == []


def test_invalid_name_fails_before_any_request(server):
    result = run_module(ollama_info, {"url": server.url, "name": ["ok", "bad name"]})
    assert result["failed"] is True
    assert "'bad name'" in result["msg"]
    assert server.requests == []


def test_unreachable_url_is_one_line_naming_the_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = run_module(ollama_info, {"url": f"127.0.0.1:{port}", "gather": ["version"]})
    assert result["failed"] is True
    assert result["msg"] == f"Cannot reach Ollama at http://127.0.0.1:{port} (GET /api/version): connection refused"
    assert "\n" not in result["msg"]


def test_bad_url_fails_clearly(server):
    result = run_module(ollama_info, {"url": "ftp://x"})
    assert result["failed"] is True and "'ftp://x'" in result["msg"]


def test_api_key_is_not_returned(server):
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    result = run_module(ollama_info, {"url": server.url, "gather": ["version"], "api_key": "topsecret"})
    assert "topsecret" not in repr(result)
    assert server.calls()[0].headers["Authorization"] == "Bearer topsecret"


def test_server_error_is_reported_with_operation(server):
    server.on("GET", "/api/tags", Reply(500, body={"error": "open /models/manifests: permission denied"}))
    result = run_module(ollama_info, {"url": server.url, "gather": ["models"]})
    assert result["failed"] is True
    assert result["msg"] == (f"Ollama at {server.url} answered HTTP 500 to GET /api/tags: "
                             "open /models/manifests: permission denied")
