# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ollama_loaded against a scripted server: each test scripts the answers of the real server (ollama-api.md)."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_loaded
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

GEMMA_DIGEST = "e7d36fb2c3b3" + "0" * 52
MINILM_DIGEST = "1b226e2802db" + "0" * 52
FOREVER = "2318-08-21T12:00:00.123456789Z"
SOON = "2026-11-25T12:05:00.123456789Z"  # finite: anything less than 20 years ahead

TAGS = {"models": [
    {"name": "gemma3:270m", "model": "gemma3:270m", "digest": GEMMA_DIGEST, "size": 291554930},
    {"name": "chat:latest", "model": "chat:latest", "digest": GEMMA_DIGEST, "size": 291554930},  # an alias
    {"name": "all-minilm:latest", "model": "all-minilm:latest", "digest": MINILM_DIGEST, "size": 45960996},
]}

SHOW_GEMMA = {"capabilities": ["completion"], "details": {"family": "gemma3"},
              "model_info": {"general.architecture": "gemma3", "gemma3.context_length": 32768}}
SHOW_MINILM = {"capabilities": ["embedding"], "details": {"family": "bert"},
               "model_info": {"general.architecture": "bert", "bert.context_length": 512}}

LOADED_REPLY = {"model": "gemma3:270m", "created_at": "2026-11-25T12:00:03Z", "response": "", "done": True,
                "done_reason": "load"}
UNLOAD_REPLY = dict(LOADED_REPLY, done_reason="unload")


def ps_entry(name="gemma3:270m", digest=GEMMA_DIGEST, expires_at=SOON, size=540000000, size_vram=0, ctx=4096):
    return {"name": name, "model": name, "size": size, "size_vram": size_vram, "digest": digest, "details": {},
            "expires_at": expires_at, "context_length": ctx}


def ps(*entries):
    return Reply(body={"models": list(entries)})


EMPTY_PS = ps()


def mutating(server):
    """Requests that change what is loaded."""
    return server.calls("POST", "/api/generate") + server.calls("POST", "/api/embed")


def run(server, check_mode=False, diff=False, **args):
    return run_module(ollama_loaded, dict(args, url=server.url), check_mode=check_mode, diff=diff)


# ------------------------------------------------------------------------------------------- loading


def test_loads_chat_model_through_generate_with_keep_alive_and_options(server):
    server.on("GET", "/api/ps", EMPTY_PS, ps(ps_entry(expires_at=FOREVER, ctx=8192)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="GEMMA3:270M", keep_alive=-1, options={"num_ctx": 8192}, diff=True)
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is True
    (sent,) = server.calls("POST", "/api/generate")
    assert sent.json == {"model": "gemma3:270m", "prompt": "", "keep_alive": -1, "options": {"num_ctx": 8192},
                         "stream": False}
    assert not server.calls("POST", "/api/embed")
    (model,) = result["models"]
    assert model == {"name": "gemma3:270m", "action": "loaded", "loaded": True, "loaded_as": "gemma3:270m",
                     "expires_at": FOREVER, "forever": True, "size": 540000000, "size_vram": 0, "gpu_percent": 0,
                     "context_length": 8192}
    assert {k: result["diff"][k] for k in ("before", "after")} == {"before": "", "after": "gemma3:270m (forever)\n"}
    assert result["actions"] == ["loaded gemma3:270m via /api/generate (not loaded; keep_alive forever)"]


def test_loads_embedding_only_model_through_embed_without_input(server):
    server.on("GET", "/api/ps", EMPTY_PS, ps(ps_entry("all-minilm:latest", MINILM_DIGEST, ctx=256)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body={"model": "all-minilm", "embeddings": []}))
    result = run(server, name="all-minilm", keep_alive="30m")
    assert result["changed"] is True
    (sent,) = server.calls("POST", "/api/embed")
    assert sent.json == {"model": "all-minilm:latest", "keep_alive": "30m"}  # no "input": load only
    assert not server.calls("POST", "/api/generate")
    assert result["models"][0]["action"] == "loaded"
    assert result["models"][0]["context_length"] == 256


def test_keep_alive_not_given_is_not_sent(server):
    server.on("GET", "/api/ps", EMPTY_PS, ps(ps_entry()))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m")
    assert result["changed"] is True
    assert "keep_alive" not in server.calls("POST", "/api/generate")[0].json


def test_already_loaded_is_ok_and_sends_nothing(server):
    server.on("GET", "/api/ps", ps(ps_entry(), ps_entry("all-minilm:latest", MINILM_DIGEST)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA), Reply(body=SHOW_MINILM))
    result = run(server, name=["gemma3:270m", "all-minilm"], diff=True)
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is False
    assert not mutating(server)
    assert [m["action"] for m in result["models"]] == ["unchanged", "unchanged"]
    assert [m["expires_at"] for m in result["models"]] == [SOON, SOON]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_loaded_forever_is_ok_for_forever(server):
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="gemma3:270m", keep_alive="-1m", diff=True)
    assert result["changed"] is False
    assert not mutating(server)
    assert result["models"][0]["action"] == "unchanged"
    assert result["models"][0]["forever"] is True
    assert result["diff"]["before"] == result["diff"]["after"] == "gemma3:270m (forever)\n"
    assert result["actions"] == []


def test_finite_keep_alive_leaves_a_loaded_model_alone(server):
    """Design: only forever-vs-finite triggers; a different finite timeout or forever -> finite is ok."""
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="gemma3:270m", keep_alive="5m")
    assert result["changed"] is False
    assert not mutating(server)


def test_forever_asked_but_expiry_finite_is_refreshed(server):
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=SOON)), ps(ps_entry(expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", keep_alive=-1, diff=True)
    assert result["changed"] is True
    assert server.calls("POST", "/api/generate")[0].json["keep_alive"] == -1
    assert result["models"][0]["action"] == "refreshed"
    assert result["models"][0]["forever"] is True
    assert {k: result["diff"][k] for k in ("before", "after")} == {"before": "gemma3:270m\n", "after": "gemma3:270m (forever)\n"}


def test_num_ctx_change_reloads(server):
    server.on("GET", "/api/ps", ps(ps_entry(ctx=4096)), ps(ps_entry(ctx=8192)))
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", options={"num_ctx": 8192})
    assert result["changed"] is True
    assert server.calls("POST", "/api/generate")[0].json["options"] == {"num_ctx": 8192}
    assert result["models"][0]["action"] == "reloaded"
    assert result["models"][0]["context_length"] == 8192
    assert result["actions"] == ["reloaded gemma3:270m via /api/generate (context length 4096 -> 8192; server keep_alive)"]


def test_num_ctx_above_trained_context_is_compared_clamped(server):
    """all-minilm is trained on 512: asking 8192 gives a 512 runner, which must then be ok, not reload forever."""
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, ctx=512)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    result = run(server, name="all-minilm", options={"num_ctx": 8192})
    assert result["changed"] is False
    assert not mutating(server)


def ps_entry_without_context(**kw):
    entry = ps_entry(**kw)
    del entry["context_length"]
    return entry


def test_server_without_context_length_in_ps_is_ok_and_says_what_it_could_not_verify(server):
    """Ollama before 0.10.0 (0.6.5): /api/ps has no context_length; a second run must not reload every time."""
    server.on("GET", "/api/ps", ps(ps_entry_without_context()))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="gemma3:270m", options={"num_ctx": 8192})
    assert result["changed"] is False
    assert not mutating(server)
    assert result["models"][0]["action"] == "unchanged"
    assert result["unverified"] == [
        "gemma3:270m: num_ctx 8192 not verified: /api/ps of this server reports no context length "
        "(Ollama reports it from 0.10.0); set refresh=true to send the options again"]


def test_server_before_0_15_5_reports_configured_num_ctx_and_is_ok(server):
    """Ollama 0.12.6 reports the configured 8192 for all-minilm (trained on 512) instead of the runner's 512."""
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, ctx=8192)))
    server.on("GET", "/api/version", Reply(body={"version": "0.12.6"}))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    result = run(server, name="all-minilm", options={"num_ctx": 8192})
    assert result["changed"] is False
    assert not mutating(server)
    assert result["unverified"] == [
        "all-minilm:latest: num_ctx 8192 compared with the configured context length that /api/ps of Ollama 0.12.6 "
        "reports, not the runner's actual context (reported from 0.15.5)"]


def test_server_before_0_15_5_still_reloads_for_another_num_ctx(server):
    server.on("GET", "/api/ps", ps(ps_entry(ctx=4096)), ps(ps_entry(ctx=8192)))
    server.on("GET", "/api/version", Reply(body={"version": "0.12.6"}))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", options={"num_ctx": 8192})
    assert result["changed"] is True
    assert result["models"][0]["action"] == "reloaded"


def test_current_server_reporting_the_configured_value_reloads(server):
    """From 0.15.5 /api/ps shows the actual context: 8192 for a model trained on 512 is a runner to replace."""
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, ctx=8192)),
              ps(ps_entry("all-minilm:latest", MINILM_DIGEST, ctx=512)))
    server.on("GET", "/api/version", Reply(body={"version": "0.34.4"}))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body={"model": "all-minilm:latest", "embeddings": []}))
    result = run(server, name="all-minilm", options={"num_ctx": 8192})
    assert result["changed"] is True
    assert result["unverified"] == []


def test_same_num_ctx_is_ok(server):
    server.on("GET", "/api/ps", ps(ps_entry(ctx=8192)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="gemma3:270m", options={"num_ctx": 8192, "num_gpu": 99})
    assert result["changed"] is False
    assert not mutating(server)


def test_refresh_always_resends(server):
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", keep_alive="10m", refresh=True)
    assert result["changed"] is True
    sent = server.calls("POST", "/api/generate")[0].json
    assert sent["keep_alive"] == "10m"
    # the runner's context length is sent along, or Ollama would restart it with the model's default
    assert sent["options"] == {"num_ctx": 4096}
    assert result["models"][0]["action"] == "refreshed"


def test_refresh_of_a_runner_at_its_trained_context_sends_no_num_ctx(server):
    """all-minilm is trained on 512: a default load shows 512 in /api/ps, and sending num_ctx 512 makes Ollama
    restart the runner (it compares the configured num_ctx, 4096 by default); without num_ctx it is kept."""
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, ctx=512)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body={"model": "all-minilm", "embeddings": []}))
    result = run(server, name="all-minilm", keep_alive="10m", refresh=True)
    assert result["models"][0]["action"] == "refreshed"
    sent = server.calls("POST", "/api/embed")[0].json
    assert "options" not in sent or "num_ctx" not in sent["options"]


def test_a_refresh_waits_for_ps_to_show_the_new_keep_alive(server):
    """Ollama applies a reused runner's new keep_alive when the request's end reaches its scheduler, a moment
    after the answer: a /api/ps read at once can show the old expiry (seen on 0.34.4 under load)."""
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=SOON)), ps(ps_entry(expires_at=SOON)),
              ps(ps_entry(expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", keep_alive=-1)
    assert result["models"][0]["action"] == "refreshed" and result["models"][0]["forever"] is True
    assert len(server.calls("GET", "/api/ps")) == 3


def test_refresh_with_options_sends_them(server):
    server.on("GET", "/api/ps", ps(ps_entry(ctx=2048)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", refresh=True, options={"num_gpu": 0})
    assert result["changed"] is True
    sent = server.calls("POST", "/api/generate")[0].json
    assert sent["options"] == {"num_gpu": 0, "num_ctx": 2048}
    assert "keep_alive" not in sent


def test_alias_shares_the_runner_of_its_source(server):
    """/api/ps lists the runner under the name that loaded it; chat:latest has the same digest."""
    server.on("GET", "/api/ps", ps(ps_entry("gemma3:270m", expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="chat", keep_alive=-1)
    assert result["changed"] is False
    assert not mutating(server)
    (model,) = result["models"]
    assert model["name"] == "chat:latest"
    assert model["loaded_as"] == "gemma3:270m"
    assert model["loaded"] is True


def test_two_models_one_finite_one_forever(server):
    server.on("GET", "/api/ps", ps(ps_entry(expires_at=FOREVER), ps_entry("all-minilm:latest", MINILM_DIGEST)),
              ps(ps_entry(expires_at=FOREVER), ps_entry("all-minilm:latest", MINILM_DIGEST, expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA), Reply(body=SHOW_MINILM))
    server.on("POST", "/api/embed", Reply(body={"model": "all-minilm:latest", "embeddings": []}))
    result = run(server, name=["gemma3:270m", "all-minilm"], keep_alive=-1)
    assert result["changed"] is True
    assert [m["action"] for m in result["models"]] == ["unchanged", "refreshed"]
    assert [c.json["model"] for c in mutating(server)] == ["all-minilm:latest"]
    assert not server.calls("POST", "/api/generate")


# ------------------------------------------------------------------------------------------- check mode


def test_check_mode_predicts_and_sends_nothing_mutating(server):
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST, size=100, size_vram=100)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA), Reply(body=SHOW_MINILM))
    result = run(server, check_mode=True, diff=True, name=["gemma3:270m", "all-minilm"], keep_alive=-1,
                 require_gpu=True)
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is True
    assert not mutating(server)
    assert {r.method for r in server.requests} == {"GET", "POST"}
    assert {r.path for r in server.requests} == {"/api/ps", "/api/tags", "/api/show"}
    assert [m["action"] for m in result["models"]] == ["loaded", "refreshed"]
    assert result["models"][0]["loaded"] is True and result["models"][0]["size"] is None
    assert {k: result["diff"][k] for k in ("before", "after")} == {
        "before": "all-minilm:latest\n", "after": "all-minilm:latest (forever)\ngemma3:270m (forever)\n"}


def test_check_mode_unload_sends_nothing(server):
    server.on("GET", "/api/ps", ps(ps_entry()))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    result = run(server, check_mode=True, diff=True, name="gemma3:270m", state="unloaded")
    assert result["changed"] is True
    assert server.calls("GET", "/api/ps") and not mutating(server)
    assert result["models"][0]["action"] == "unloaded"
    assert result["models"][0]["loaded"] is False
    assert {k: result["diff"][k] for k in ("before", "after")} == {"before": "gemma3:270m\n", "after": ""}


def test_check_mode_checks_gpu_of_models_already_loaded(server):
    server.on("GET", "/api/ps", ps(ps_entry(size=1000, size_vram=500)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, check_mode=True, name="gemma3:270m", require_gpu=True)
    assert result["failed"] is True
    assert "gemma3:270m is 50% in GPU memory" in result["msg"]
    assert not mutating(server)


# ------------------------------------------------------------------------------------------- unloading


def test_unload_waits_until_ps_no_longer_lists_it(server):
    # the unload is asynchronous: /api/ps lists the model once more after the request, then not
    server.on("GET", "/api/ps", ps(ps_entry()), ps(ps_entry()), EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/generate", Reply(body=UNLOAD_REPLY))
    result = run(server, name="gemma3:270m", state="unloaded", diff=True)
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is True
    (sent,) = server.calls("POST", "/api/generate")
    assert sent.json == {"model": "gemma3:270m", "prompt": "", "keep_alive": 0, "stream": False}
    assert len(server.calls("GET", "/api/ps")) >= 3
    assert result["models"][0]["action"] == "unloaded" and result["models"][0]["loaded"] is False
    assert {k: result["diff"][k] for k in ("before", "after")} == {"before": "gemma3:270m\n", "after": ""}
    assert len(server.calls("GET", "/api/tags")) == 1  # the unload must name an installed model


@pytest.mark.parametrize("check_mode", [False, True])
def test_unload_of_a_deleted_but_loaded_model_explains_why_it_cannot(server, check_mode):
    # Ollama looks the name up before unloading: a model deleted while loaded answers 404 and stays loaded.
    # Check mode decides alike, so it predicts the failure instead of an unload that cannot happen.
    server.on("GET", "/api/ps", ps(ps_entry("gone:1b", "f" * 64, expires_at=FOREVER)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    result = run(server, check_mode=check_mode, name="gone:1b", state="unloaded")
    assert result["failed"] is True
    assert "deleted while loaded" in result["msg"] and FOREVER in result["msg"]
    assert result["msg"].startswith("Unloading gone:1b is not possible")
    assert not result.get("changed")
    assert not mutating(server)


def test_unload_of_a_deleted_name_goes_through_an_installed_alias(server):
    # /api/ps lists the runner under a deleted name; chat:latest has the same digest and reaches it.
    server.on("GET", "/api/ps", ps(ps_entry("old-name:latest", GEMMA_DIGEST)), EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/generate", Reply(body=UNLOAD_REPLY))
    result = run(server, name="old-name", state="unloaded")
    assert result["changed"] is True, result
    assert server.calls("POST", "/api/generate")[0].json["model"] == "chat:latest"


def test_unload_embedding_model_uses_generate_too(server):
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST)), EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/generate", Reply(body=UNLOAD_REPLY))
    result = run(server, name="all-minilm", state="unloaded")
    assert result["changed"] is True
    assert server.calls("POST", "/api/generate")[0].json["model"] == "all-minilm:latest"
    assert not server.calls("POST", "/api/embed")


def test_unload_alias_unloads_the_shared_runner(server):
    server.on("GET", "/api/ps", ps(ps_entry("gemma3:270m")), EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/generate", Reply(body=UNLOAD_REPLY))
    result = run(server, name="chat", state="unloaded")
    assert result["changed"] is True
    assert server.calls("POST", "/api/generate")[0].json["model"] == "chat:latest"
    assert result["actions"] == ["unloaded chat:latest (loaded as gemma3:270m)"]


def test_unload_timeout_fails_naming_the_model(server):
    server.on("GET", "/api/ps", ps(ps_entry()))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/generate", Reply(body=UNLOAD_REPLY))
    result = run(server, name="gemma3:270m", state="unloaded", timeout=1.5)
    assert result["failed"] is True
    assert result["msg"].startswith("gemma3:270m still loaded 1.5s after the unload request")
    assert result["changed"] is True
    assert result["models"][0]["loaded"] is True


def test_unload_of_a_model_not_loaded_is_ok(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    result = run(server, name=["gemma3:270m", "never-installed:1b"], state="unloaded", diff=True)
    assert result["failed"] is False
    assert result["changed"] is False
    assert [r.path for r in server.requests] == ["/api/ps"]
    assert [m["action"] for m in result["models"]] == ["unchanged", "unchanged"]


def test_unload_other_model_loaded_is_ok(server):
    server.on("GET", "/api/ps", ps(ps_entry("all-minilm:latest", MINILM_DIGEST)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    result = run(server, name="gemma3:270m", state="unloaded")
    assert result["changed"] is False
    assert not mutating(server)


# ------------------------------------------------------------------------------------------- GPU residency


def test_require_gpu_fails_saying_how_much_is_in_system_ram(server):
    server.on("GET", "/api/ps", EMPTY_PS, ps(ps_entry(size=540000000, size_vram=0)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", require_gpu=True)
    assert result["failed"] is True
    assert result["msg"] == ("gemma3:270m is 0% in GPU memory (require_gpu needs 100%): "
                             "540 MB of 540 MB in system RAM")
    assert result["changed"] is True  # it was loaded nevertheless
    assert result["models"][0]["action"] == "loaded"


def test_require_gpu_counts_a_rounding_99_5_percent_as_short(server):
    server.on("GET", "/api/ps", ps(ps_entry(size=1000000000, size_vram=996000000)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="gemma3:270m", require_gpu=True)
    assert result["failed"] is True
    assert result["msg"] == "gemma3:270m is 99% in GPU memory (require_gpu needs 100%): 4.0 MB of 1.0 GB in system RAM"


@pytest.mark.parametrize("minimum,vram,failed", [(0, 0, False), (80, 800, False), (80, 799, True), (100, 1000, False)])
def test_min_gpu_percent(server, minimum, vram, failed):
    server.on("GET", "/api/ps", ps(ps_entry(size=1000, size_vram=vram)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name="gemma3:270m", min_gpu_percent=minimum)
    assert result["failed"] is failed
    if failed:
        assert result["msg"] == "gemma3:270m is 79% in GPU memory (min_gpu_percent is 80%): 201 B of 1.0 KB in system RAM"


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("keep_alive,words", [
    ("1d", 'unknown unit "d"'),
    ("5x", 'unknown unit "x"'),
    ("0", "use state=unloaded"),
    (True, "not a duration"),
    ("", "invalid duration"),
    (0, "use state=unloaded"),
    ("0s", "use state=unloaded"),
])
def test_invalid_keep_alive_fails_before_any_request(server, keep_alive, words):
    result = run(server, name="gemma3:270m", keep_alive=keep_alive)
    assert result["failed"] is True
    assert words in result["msg"]
    assert "keep_alive" in result["msg"]
    assert server.requests == []


@pytest.mark.parametrize("args,words", [
    ({"name": "bad name!"}, "invalid model name 'bad name!'"),
    ({"name": "gemma3:270m", "min_gpu_percent": 101}, "min_gpu_percent must be from 0 to 100, got 101"),
    ({"name": "gemma3:270m", "options": {"num_ctx": "8192"}}, "options.num_ctx must be a positive integer"),
    ({"name": "gemma3:270m", "state": "unloaded", "keep_alive": -1}, "keep_alive only apply to state=loaded"),
    ({"name": "gemma3:270m", "state": "unloaded", "require_gpu": True}, "require_gpu only apply to state=loaded"),
])
def test_bad_input_fails_before_any_request(server, args, words):
    result = run(server, **args)
    assert result["failed"] is True
    assert words in result["msg"]
    assert server.requests == []


# ------------------------------------------------------------------------------------------- server failures


def test_model_not_installed_fails_before_loading_anything(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    result = run(server, name=["gemma3:270m", "qwen2.5:7b"])
    assert result["failed"] is True
    assert result["msg"] == (f"not installed on {server.url}: qwen2.5:7b; install with llmops.ollama.ollama_model "
                             "first (ollama_loaded never pulls)")
    assert not mutating(server)


def test_show_404_counts_as_not_installed(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(404, {"error": "model 'gemma3:270m' not found"}))
    result = run(server, name="gemma3:270m")
    assert result["failed"] is True
    assert result["msg"].startswith("not installed on ")
    assert not mutating(server)


def test_load_error_names_url_operation_and_server_text(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    text = "model requires more system memory (12.0 GiB) than is available (3.1 GiB)"
    server.on("POST", "/api/generate", Reply(500, {"error": text}))
    result = run(server, name="gemma3:270m")
    assert result["failed"] is True
    assert result["msg"] == f"Loading gemma3:270m failed: Ollama at {server.url} answered HTTP 500 to POST /api/generate: {text}"
    assert result["changed"] is False
    assert result["error"]["server_error"] == text


def test_second_load_error_reports_the_first_as_changed(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA), Reply(body=SHOW_MINILM))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    server.on("POST", "/api/embed", Reply(500, {"error": "llama runner process has terminated: exit status 2"}))
    result = run(server, name=["gemma3:270m", "all-minilm"])
    assert result["failed"] is True
    assert result["changed"] is True
    assert "Loading all-minilm:latest failed" in result["msg"] and "POST /api/embed" in result["msg"]
    assert result["actions"] == ["loaded gemma3:270m via /api/generate (not loaded; server keep_alive)"]


def test_evicted_after_load_fails(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", keep_alive=-1)
    assert result["failed"] is True
    assert "OLLAMA_MAX_LOADED_MODELS" in result["msg"]
    assert result["models"][0]["loaded"] is False


def test_unreachable_server_names_url_and_operation():
    result = run_module(ollama_loaded, {"url": "http://127.0.0.1:1", "name": "gemma3:270m", "timeout": 2})
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot reach Ollama at http://127.0.0.1:1 (GET /api/ps):")


def test_check_mode_predicts_the_load_of_a_model_an_earlier_task_pulls(server):
    server.on("GET", "/api/ps", EMPTY_PS)
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run(server, check_mode=True, diff=True, name="gemma3:270m", keep_alive="10m")
    assert result["failed"] is False, result["msg"]
    assert result["changed"] is True and result["models"][0]["action"] == "loaded"
    assert result["diff"]["after"] == "gemma3:270m\n"
    assert any("not installed" in w and "predicted" in w for w in result["warnings"])
    real = run(server, name="gemma3:270m", keep_alive="10m")
    assert real["failed"] is True and "not installed" in real["msg"]
    assert not mutating(server)


@pytest.mark.parametrize("keep_alive,wire", [("-1", -1), ("300", 300), ("-1.5", -1.5)])
def test_number_like_keep_alive_string_is_sent_as_the_number(server, keep_alive, wire):
    """ansible-core before 2.19 templates the role's keep_alive -1 into the string "-1"."""
    server.on("GET", "/api/ps", EMPTY_PS, ps(ps_entry(expires_at=FOREVER if wire < 0 else SOON)))
    server.on("GET", "/api/tags", Reply(body=TAGS))
    server.on("POST", "/api/show", Reply(body=SHOW_GEMMA))
    server.on("POST", "/api/generate", Reply(body=LOADED_REPLY))
    result = run(server, name="gemma3:270m", keep_alive=keep_alive)
    assert result["changed"] is True
    sent = server.calls("POST", "/api/generate")[0].json["keep_alive"]
    assert sent == wire and type(sent) is type(wire)  # pylint: disable=unidiomatic-typecheck
