# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Prove that a loaded model serves: one short generation (or one embedding), and what Ollama measured.

A chat/completion model gets one streamed ``POST /api/generate`` with a fixed prompt, ``num_predict`` tokens,
``seed`` and ``temperature: 0`` (so two runs ask the same question); an embedding-only model gets one
``POST /api/embed`` of a fixed sentence. The figures come from the fields Ollama returns (``api.Metrics`` in
api/types.go, all durations in nanoseconds and ``omitempty``): ``load_duration``, ``prompt_eval_count``,
``prompt_eval_duration``, ``eval_count``, ``eval_duration``, ``total_duration``; ``/api/embed`` returns
``total_duration``, ``load_duration`` and ``prompt_eval_count`` (``api.EmbedResponse``). The first-token latency
is measured here, on the client: from sending the request to the first streamed chunk with text.

The request sends no ``keep_alive`` (so the model keeps the one it was loaded with) and the runner options the
model is loaded with (``num_ctx`` from ``/api/ps`` when not given), so verifying never reloads the runner.
"""

from __future__ import annotations

import time

from ansible_collections.llmops.ollama.plugins.module_utils._client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils._common import ModuleFailure
from ansible_collections.llmops.ollama.plugins.module_utils._facts import context_length

VERIFY_PROMPT = "Reply with one short sentence: what colour is the sky on a clear day?"
VERIFY_INPUT = "The quick brown fox jumps over the lazy dog."
VERIFY_SEED = 42

VERIFY_ARGSPEC = dict(
    verify=dict(type="bool", default=False),
    # "token" here is a unit of text, not a credential.
    verify_tokens=dict(type="int", default=16, no_log=False),
    min_tokens_per_second=dict(type="float", no_log=False),
    max_first_token_ms=dict(type="float", no_log=False),
)


class VerifySettings:
    """The verify options of a task, validated before any request is sent."""

    def __init__(self, params):
        self.enabled = bool(params.get("verify"))
        self.tokens = params.get("verify_tokens")
        self.min_tps = params.get("min_tokens_per_second")
        self.max_first_ms = params.get("max_first_token_ms")
        thresholds = [opt for opt in ("min_tokens_per_second", "max_first_token_ms") if params.get(opt) is not None]
        if thresholds and not self.enabled:
            raise ModuleFailure(f"{', '.join(thresholds)} need verify=true (the figures come from the verify request)")
        if not self.enabled:
            return
        if params.get("state") == "unloaded":
            raise ModuleFailure("verify only applies to state=loaded, not to state=unloaded")
        if self.tokens is None or self.tokens < 1 or self.tokens > 4096:
            raise ModuleFailure(f"verify_tokens must be from 1 to 4096, got {self.tokens}")
        for opt, value in (("min_tokens_per_second", self.min_tps), ("max_first_token_ms", self.max_first_ms)):
            if value is not None and value <= 0:
                raise ModuleFailure(f"{opt} must be greater than 0, got {value:g}")


def _ms(nanoseconds):
    """Milliseconds (3 decimals) of an Ollama duration in ns; None when absent."""
    if not isinstance(nanoseconds, (int, float)) or isinstance(nanoseconds, bool) or nanoseconds <= 0:
        return None
    return round(nanoseconds / 1e6, 3)


def _rate(count, nanoseconds):
    """Tokens per second (2 decimals) from a count and a duration in ns; None when either is missing."""
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return None
    if not isinstance(nanoseconds, (int, float)) or nanoseconds <= 0:
        return None
    return round(count / (nanoseconds / 1e9), 2)


def figures_from_generate(final, first_token_ms, text, tokens):
    """The verify figures of one generation, from its last (``done``) stream line."""
    return {
        "kind": "generate",
        "path": "/api/generate",
        "prompt": VERIFY_PROMPT,
        "num_predict": tokens,
        "response": text,
        "done_reason": final.get("done_reason"),
        "first_token_ms": first_token_ms,
        "load_ms": _ms(final.get("load_duration")),
        "total_ms": _ms(final.get("total_duration")),
        "prompt_tokens": final.get("prompt_eval_count"),
        "prompt_ms": _ms(final.get("prompt_eval_duration")),
        "prompt_tokens_per_second": _rate(final.get("prompt_eval_count"), final.get("prompt_eval_duration")),
        "tokens": final.get("eval_count"),
        "eval_ms": _ms(final.get("eval_duration")),
        "tokens_per_second": _rate(final.get("eval_count"), final.get("eval_duration")),
        "embedding_length": None,
    }


def figures_from_embed(answer, elapsed_ms):
    """The verify figures of one embedding."""
    vectors = answer.get("embeddings") or []
    return {
        "kind": "embed",
        "path": "/api/embed",
        "prompt": VERIFY_INPUT,
        "num_predict": None,
        "response": None,
        "done_reason": None,
        "first_token_ms": None,
        "load_ms": _ms(answer.get("load_duration")),
        "total_ms": _ms(answer.get("total_duration")) or elapsed_ms,
        "prompt_tokens": answer.get("prompt_eval_count"),
        "prompt_ms": None,
        "prompt_tokens_per_second": None,
        "tokens": None,
        "eval_ms": None,
        "tokens_per_second": None,
        "embedding_length": len(vectors[0]) if vectors and isinstance(vectors[0], list) else 0,
    }


def runner_options(options, context_length, trained_context=None):
    """The options a verify request carries so the loaded runner is reused, not restarted.

    Ollama restarts a runner when a request's ``num_ctx`` differs from the one it was started with. Without
    ``num_ctx`` in the task, the context ``/api/ps`` shows is sent (the runner may have been loaded with another
    one than the default), unless it equals the model's trained context: then ``/api/ps`` may show the value
    cut to the trained context (Ollama 0.15.5 and later), not the ``num_ctx`` the runner was started with, and
    sending it would restart the runner (seen with all-minilm on 0.34.4: loaded without options, /api/ps 512).
    """
    body = dict(options or {})
    if "num_ctx" not in body and context_length and context_length != trained_context:
        body["num_ctx"] = context_length
    return body


def verify_generate(client, name, options, tokens, timeout, clock=time.monotonic):
    """One short, deterministic generation; returns its figures."""
    body = {
        "model": name,
        "prompt": VERIFY_PROMPT,
        "stream": True,
        "options": dict(options, num_predict=tokens, seed=VERIFY_SEED, temperature=0),
    }
    started = clock()
    first_ms = None
    text = []
    final = {}
    for item in client.stream("POST", "/api/generate", body, stall_timeout=timeout, final_status=None,
                              action=f"generate with {name} (verify)"):
        piece = item.get("response") or item.get("thinking") or ""
        if piece and first_ms is None:
            first_ms = round((clock() - started) * 1000.0, 3)
        text.append(item.get("response") or "")
        if item.get("done"):
            final = item
    if not final:
        raise OllamaError(f"Ollama at {client.base_url} ended the verify generation of {name} without a final "
                          "line (done)", url=client.base_url, method="POST", path="/api/generate")
    return figures_from_generate(final, first_ms, "".join(text), tokens)


def verify_embed(client, name, options, timeout, clock=time.monotonic):
    """One embedding of a fixed sentence; returns its figures (with the vector's length)."""
    body = {"model": name, "input": VERIFY_INPUT}
    if options:
        body["options"] = dict(options)
    started = clock()
    answer = client.embed(body, timeout=timeout) or {}
    figures = figures_from_embed(answer, round((clock() - started) * 1000.0, 3))
    if not figures["embedding_length"]:
        raise OllamaError(f"Ollama at {client.base_url} answered the verify embedding of {name} with no vector",
                          url=client.base_url, method="POST", path="/api/embed")
    return figures


def verify_model(client, name, embedding_only, options, context_length, settings, timeout, trained_context=None):
    """Verify one loaded model; returns its figures. Raises OllamaError when the request fails."""
    body_options = runner_options(options, context_length, trained_context)
    if embedding_only:
        return verify_embed(client, name, body_options, timeout)
    return verify_generate(client, name, body_options, settings.tokens, timeout)


def threshold_failures(name, figures, settings):
    """Messages for the thresholds ``figures`` miss (measured vs threshold); thresholds apply to generation."""
    if figures is None or figures["kind"] != "generate":
        return []
    messages = []
    if settings.min_tps is not None:
        tps = figures["tokens_per_second"]
        if tps is None:
            messages.append(f"{name}: generation speed not measured (Ollama reported no eval_count/eval_duration); "
                            f"min_tokens_per_second is {settings.min_tps:g}")
        elif tps < settings.min_tps:
            messages.append(f"{name}: generated {tps:g} tokens/s, below min_tokens_per_second {settings.min_tps:g} "
                            f"({figures['tokens']} tokens in {figures['eval_ms']:g} ms)")
    if settings.max_first_ms is not None:
        first = figures["first_token_ms"]
        if first is None:
            messages.append(f"{name}: first token not measured (the model produced no text); "
                            f"max_first_token_ms is {settings.max_first_ms:g}")
        elif first > settings.max_first_ms:
            messages.append(f"{name}: first token after {first:g} ms, above max_first_token_ms "
                            f"{settings.max_first_ms:g}")
    return messages


def run_verify(client, settings, entries, options, timeout, check_mode):
    """Verify every model of ``entries`` (``(name, show, model_result)``) and add its figures.

    Sets ``model_result["verify"]`` (None in check mode, which sends nothing). Returns ``(lines, failures)``:
    one line per verified model, and the threshold messages. A failing request raises OllamaError.
    """
    lines, failures = [], []
    for name, show, entry in entries:
        if check_mode:
            entry["verify"] = None
            continue
        capabilities = (show or {}).get("capabilities") or []
        embedding_only = "embedding" in capabilities and "completion" not in capabilities
        figures = verify_model(client, name, embedding_only, options, entry.get("context_length"), settings, timeout,
                               context_length(show or {}))
        entry["verify"] = figures
        lines.append(describe(name, figures))
        failures.extend(threshold_failures(name, figures, settings))
    return lines, failures


def describe(name, figures):
    """One line for ``actions``-like output: what the verify request measured."""
    if figures["kind"] == "embed":
        return (f"verified {name} via /api/embed: {figures['embedding_length']} dimensions, "
                f"{figures['prompt_tokens']} tokens in {figures['total_ms']} ms")
    return (f"verified {name} via /api/generate: first token {figures['first_token_ms']} ms, "
            f"{figures['tokens']} tokens at {figures['tokens_per_second']} tokens/s, prompt "
            f"{figures['prompt_tokens']} tokens at {figures['prompt_tokens_per_second']} tokens/s")
