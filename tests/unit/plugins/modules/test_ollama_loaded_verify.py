# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ollama_loaded verify=true against a scripted server (the real server's figures: integration target)."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.tests.unit.helpers import Reply
from ansible_collections.llmops.ollama.tests.unit.plugins.modules.test_ollama_loaded import (
    EMPTY_PS,
    FOREVER,
    LOADED_REPLY,
    MINILM_DIGEST,
    SHOW_GEMMA,
    SHOW_MINILM,
    TAGS,
    mutating,
    ps,
    ps_entry,
    run,
)

# What Ollama 0.34.4 streams for a generation (api.GenerateResponse; the last line carries api.Metrics, in ns).
STREAM = [
    {"model": "gemma3:270m", "created_at": "2026-11-26T06:00:00Z", "response": "The", "done": False},
    {"model": "gemma3:270m", "created_at": "2026-11-26T06:00:00Z", "response": " sky is blue.", "done": False},
    {"model": "gemma3:270m", "created_at": "2026-11-26T06:00:00Z", "response": "", "done": True,
     "done_reason": "stop", "total_duration": 500_000_000, "load_duration": 2_000_000, "prompt_eval_count": 20,
     "prompt_eval_duration": 100_000_000, "eval_count": 8, "eval_duration": 200_000_000},
]
EMBED = {"model": "all-minilm:latest", "embeddings": [[0.1] * 384], "total_duration": 30_000_000,
         "load_duration": 1_000_000, "prompt_eval_count": 11}


def loaded_gemma(server, generate_replies):
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=FOREVER, ctx=8192)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", *generate_replies)


def test_verify_generates_once_with_fixed_prompt_and_returns_ollama_figures(server):
    loaded_gemma(server, [Reply(lines=STREAM)])
    result = run(server, name="gemma3:270m", keep_alive=-1, verify=True, verify_tokens=8)
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is False  # verifying is not a change
    (sent,) = server.calls("POST", "/api/generate")
    # no keep_alive (the model keeps the one it has); the loaded context length, so the runner is not restarted
    assert sent.json["stream"] is True
    assert "keep_alive" not in sent.json
    assert sent.json["options"] == {"num_ctx": 8192, "num_predict": 8, "seed": 42, "temperature": 0}
    assert sent.json["prompt"]
    figures = result["models"][0]["verify"]
    assert figures["kind"] == "generate"
    assert figures["response"] == "The sky is blue."
    assert figures["tokens"] == 8 and figures["tokens_per_second"] == 40.0
    assert figures["prompt_tokens"] == 20 and figures["prompt_tokens_per_second"] == 200.0
    assert figures["load_ms"] == 2.0 and figures["total_ms"] == 500.0 and figures["eval_ms"] == 200.0
    assert figures["first_token_ms"] is not None and figures["first_token_ms"] >= 0
    assert figures["embedding_length"] is None
    assert result["verified"][0].startswith("verified gemma3:270m via /api/generate: first token ")


def test_verify_after_a_load_sends_the_load_then_the_generation(server):
    server.on("GET", "/api/ps", EMPTY_PS, ps(ps_entry(expires_at=FOREVER, ctx=4096)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY), Reply(lines=STREAM))
    result = run(server, name="gemma3:270m", keep_alive=-1, options={"num_ctx": 4096, "num_gpu": 0}, verify=True)
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is True  # the load, not the verify
    load, check = server.calls("POST", "/api/generate")
    assert load.json["prompt"] == ""
    assert check.json["options"] == {"num_ctx": 4096, "num_gpu": 0, "num_predict": 16, "seed": 42, "temperature": 0}
    assert result["models"][0]["verify"]["tokens_per_second"] == 40.0


def test_verify_embedding_model_embeds_a_sentence_and_returns_its_dimension(server):
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, expires_at=FOREVER, ctx=256)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body=EMBED))
    result = run(server, name="all-minilm", verify=True, min_tokens_per_second=1000, max_first_token_ms=0.001)
    assert result["failed"] is False, result["msg"]  # thresholds apply to generation only
    assert result["changed"] is False
    (sent,) = server.calls("POST", "/api/embed")
    assert sent.json["input"] and sent.json["options"] == {"num_ctx": 256}
    assert not server.calls("POST", "/api/generate")
    figures = result["models"][0]["verify"]
    assert figures["kind"] == "embed" and figures["embedding_length"] == 384
    assert figures["prompt_tokens"] == 11 and figures["total_ms"] == 30.0
    assert result["verified"] == ["verified all-minilm:latest via /api/embed: 384 dimensions, 11 tokens in 30.0 ms"]


def test_verify_does_not_send_a_context_that_is_the_trained_one(server):
    # /api/ps of 0.15.5+ shows the context cut to the trained one (512): sending it would restart the runner.
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, expires_at=FOREVER, ctx=512)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body=EMBED))
    result = run(server, name="all-minilm", verify=True)
    assert result["failed"] is False, result["msg"]
    (sent,) = server.calls("POST", "/api/embed")
    assert "options" not in sent.json


def test_verify_embedding_without_a_vector_fails(server):
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, expires_at=FOREVER, ctx=256)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body={"model": "all-minilm:latest", "embeddings": []}))
    result = run(server, name="all-minilm", verify=True)
    assert result["failed"] is True
    assert "answered the verify embedding of all-minilm:latest with no vector" in result["msg"]
    assert result["changed"] is False


def test_min_tokens_per_second_fails_naming_measured_and_threshold(server):
    loaded_gemma(server, [Reply(lines=STREAM)])
    result = run(server, name="gemma3:270m", verify=True, min_tokens_per_second=50)
    assert result["failed"] is True
    assert result["msg"] == ("gemma3:270m: generated 40 tokens/s, below min_tokens_per_second 50 "
                             "(8 tokens in 200 ms)")
    assert result["changed"] is False
    assert result["models"][0]["verify"]["tokens_per_second"] == 40.0  # the figures come with the failure


def test_max_first_token_ms_fails_naming_measured_and_threshold(server):
    slow = [("sleep", 0.3)] + STREAM
    loaded_gemma(server, [Reply(lines=slow)])
    result = run(server, name="gemma3:270m", verify=True, max_first_token_ms=100, min_tokens_per_second=10)
    assert result["failed"] is True
    assert result["msg"].startswith("gemma3:270m: first token after ")
    assert result["msg"].endswith(" ms, above max_first_token_ms 100")
    assert result["models"][0]["verify"]["first_token_ms"] >= 300


def test_thresholds_met_pass(server):
    loaded_gemma(server, [Reply(lines=STREAM)])
    result = run(server, name="gemma3:270m", verify=True, min_tokens_per_second=39.5, max_first_token_ms=60000)
    assert result["failed"] is False, result["msg"]


def test_error_line_in_the_verify_stream_fails_naming_the_server_error(server):
    loaded_gemma(server, [Reply(lines=[{"error": "llama runner process has terminated: exit status 2"}])])
    result = run(server, name="gemma3:270m", verify=True)
    assert result["failed"] is True
    assert result["msg"].startswith("Verifying failed: Ollama at ")
    assert "generate with gemma3:270m (verify)" in result["msg"]
    assert "llama runner process has terminated" in result["msg"]
    assert result["changed"] is False


def test_check_mode_does_not_generate(server):
    loaded_gemma(server, [Reply(lines=STREAM)])
    result = run(server, check_mode=True, name="gemma3:270m", verify=True, min_tokens_per_second=1e9)
    assert result["failed"] is False, result["msg"]
    assert not mutating(server)
    assert result["models"][0]["verify"] is None
    assert result["verified"] == []


def test_without_verify_nothing_is_generated_and_no_verify_key(server):
    loaded_gemma(server, [Reply(lines=STREAM)])
    result = run(server, name="gemma3:270m")
    assert result["failed"] is False, result["msg"]
    assert not mutating(server)
    assert "verify" not in result["models"][0]
    assert "verified" not in result


@pytest.mark.parametrize("args,words", [
    ({"min_tokens_per_second": 10}, "min_tokens_per_second need verify=true"),
    ({"verify": True, "verify_tokens": 0}, "verify_tokens must be from 1 to 4096, got 0"),
    ({"verify": True, "min_tokens_per_second": -1}, "min_tokens_per_second must be greater than 0, got -1"),
    ({"verify": True, "max_first_token_ms": 0}, "max_first_token_ms must be greater than 0, got 0"),
    ({"verify": True, "state": "unloaded"}, "verify only applies to state=loaded"),
])
def test_bad_verify_input_fails_before_any_request(server, args, words):
    result = run(server, name="gemma3:270m", **args)
    assert result["failed"] is True
    assert words in result["msg"]
    assert server.requests == []
