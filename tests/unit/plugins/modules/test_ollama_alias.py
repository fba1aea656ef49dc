# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ollama_alias against a scripted server."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_alias
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

D1 = "a" * 64
D2 = "b" * 64


def model(name, digest):
    return {"name": name, "model": name, "digest": digest, "size": 10, "details": {}}


def tags(*models):
    return Reply(body={"models": list(models)})


def run(server, check_mode=False, diff=False, **args):
    args.setdefault("url", server.url)
    return run_module(ollama_alias, args, check_mode=check_mode, diff=diff)


def mutations(server):
    return [r for r in server.requests if r.path in ("/api/copy", "/api/delete", "/api/pull")]


@pytest.mark.parametrize("args, words", [
    ({"name": "chat bot", "source": "gemma3"}, "name: invalid model name 'chat bot'"),
    ({"name": "chat", "source": "x:y:z"}, "source: invalid model name 'x:y:z'"),
    ({"name": "chat"}, "source is required with state=present"),
    ({"name": "GEMMA3:latest", "source": "gemma3"}, "are the same model"),
    ({"name": "library/gemma3", "source": "gemma3", "state": "absent"}, "never deletes the source"),
])
def test_bad_input_fails_before_any_request(server, args, words):
    result = run(server, **args)
    assert result["failed"] is True and words in result["msg"]
    assert server.requests == []


def test_missing_alias_is_copied(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1)))
    server.on("POST", "/api/copy", Reply(body=None))
    result = run(server, diff=True, name="chat", source="gemma3:270m")
    assert result["changed"] is True
    assert (result["alias"], result["source"], result["digest"], result["previous_digest"]) == \
        ("chat:latest", "gemma3:270m", D1, None)
    assert [r.json for r in server.calls("POST", "/api/copy")] == [{"source": "gemma3:270m", "destination": "chat"}]
    assert result["diff"] == {"before": "", "after": "chat:latest -> gemma3:270m@aaaaaaaaaaaa\n"}


def test_alias_with_same_digest_is_ok(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("chat:latest", D1)))
    result = run(server, name="Chat", source="gemma3:270m")
    assert result["changed"] is False and result["alias"] == "chat:latest"
    assert mutations(server) == []


def test_alias_pointing_elsewhere_is_repointed(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("chat:latest", D2), model("old:1", D2)))
    server.on("POST", "/api/copy", Reply(body=None))
    result = run(server, diff=True, name="chat", source="gemma3:270m")
    assert result["changed"] is True and result["previous_digest"] == D2 and result["digest"] == D1
    assert result["diff"] == {"before": "chat:latest -> old:1@bbbbbbbbbbbb\n",
                              "after": "chat:latest -> gemma3:270m@aaaaaaaaaaaa\n"}


def test_check_mode_predicts_and_copies_nothing(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("chat:latest", D2), model("old:1", D2)))
    result = run(server, check_mode=True, name="chat", source="gemma3:270m")
    assert result["changed"] is True and result["digest"] == D1
    result = run(server, check_mode=True, name="chat", state="absent")
    assert result["changed"] is True and result["digest"] is None
    assert mutations(server) == []


def test_missing_source_fails_clearly_and_never_pulls(server):
    server.on("GET", "/api/tags", tags(model("chat:latest", D2)))
    result = run(server, name="chat", source="qwen2.5:7b")
    assert result["failed"] is True
    assert "source 'qwen2.5:7b' is not installed" in result["msg"] and server.url in result["msg"]
    assert mutations(server) == []


def test_check_mode_predicts_an_alias_of_a_source_an_earlier_task_pulls(server):
    server.on("GET", "/api/tags", tags())
    result = run(server, check_mode=True, diff=True, name="chat", source="qwen2.5:7b")
    assert result["failed"] is False and result["changed"] is True
    assert result["diff"] == {"before": "", "after": "chat:latest -> qwen2.5:7b@unknown (not installed yet)\n"}
    assert any("not installed" in w and "a real run fails" in w for w in result["warnings"])
    assert mutations(server) == []


def test_absent_deletes_alias_only(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("chat:latest", D1)))
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, diff=True, name="chat", source="gemma3:270m", state="absent")
    assert result["changed"] is True and result["digest"] is None
    assert [r.json for r in server.calls("DELETE", "/api/delete")] == [{"model": "chat:latest"}]
    assert result["diff"] == {"before": "chat:latest -> gemma3:270m@aaaaaaaaaaaa\n", "after": ""}


def test_absent_missing_is_ok(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1)))
    result = run(server, name="chat", state="absent")
    assert result["changed"] is False and result["digest"] is None
    assert mutations(server) == []


def test_copy_error_names_url_and_operation(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1)))
    server.on("POST", "/api/copy", Reply(status=404, body={"error": 'model "gemma3:270m" not found'}))
    result = run(server, name="chat", source="gemma3:270m")
    assert result["failed"] is True
    assert f"Ollama at {server.url} answered HTTP 404 to POST /api/copy" in result["msg"]
    assert 'model "gemma3:270m" not found' in result["msg"]


# An alias may replace only a name whose digest another name shares (issue 9, item 5).

def test_alias_over_the_only_name_of_a_model_fails_before_any_change(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("all-minilm:latest", D2)))
    for check_mode in (True, False):
        result = run(server, check_mode=check_mode, name="all-minilm", source="gemma3:270m")
        assert result["failed"] is True
        assert "all-minilm:latest" in result["msg"] and "is an installed model, not an alias" in result["msg"]
        assert "would delete that model" in result["msg"] and "force: true" in result["msg"]
        assert "bbbbbbbbbbbb" in result["msg"] and server.url in result["msg"]
    assert mutations(server) == []


def test_force_replaces_the_only_name_of_a_model(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("all-minilm:latest", D2)))
    server.on("POST", "/api/copy", Reply(body=None))
    result = run(server, diff=True, name="all-minilm", source="gemma3:270m", force=True)
    assert result["changed"] is True and result["previous_digest"] == D2 and result["digest"] == D1
    assert [r.json for r in server.calls("POST", "/api/copy")] == [
        {"source": "gemma3:270m", "destination": "all-minilm"}]
    assert result["diff"]["before"] == "all-minilm:latest -> (no other name)@bbbbbbbbbbbb\n"


def test_alias_over_an_alias_needs_no_force(server):
    # chat:latest shares its digest with old:1, so repointing chat loses nothing.
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("chat:latest", D2), model("old:1", D2)))
    server.on("POST", "/api/copy", Reply(body=None))
    result = run(server, name="chat", source="gemma3:270m")
    assert result["changed"] is True and len(server.calls("POST", "/api/copy")) == 1


def test_only_name_already_pointing_at_source_is_ok_without_force(server):
    # Same digest as the source: nothing to replace, nothing refused.
    server.on("GET", "/api/tags", tags(model("gemma3:270m", D1), model("chat:latest", D1)))
    result = run(server, name="chat", source="gemma3:270m")
    assert result["changed"] is False and mutations(server) == []


def test_check_mode_with_pending_source_still_refuses_to_replace_a_model(server):
    # The source is pulled by an earlier task of the check run; the alias name holds a model of its own.
    server.on("GET", "/api/tags", tags(model("all-minilm:latest", D2)))
    result = run(server, check_mode=True, name="all-minilm", source="gemma3:270m")
    assert result["failed"] is True and "pointing it at gemma3:270m would delete that model" in result["msg"]
    assert mutations(server) == []
