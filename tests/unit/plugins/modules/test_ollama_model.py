# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ollama_model against a scripted server: every branch, and which requests were (not) sent."""

from __future__ import annotations

import functools
import hashlib
import json

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils import _client
from ansible_collections.llmops.ollama.plugins.modules import ollama_model
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

D1 = "a" * 64
D2 = "b" * 64
MUTATING = ("/api/pull", "/api/delete", "/api/create", "/api/copy")


def model(name, digest=D1, size=1000):
    return {"name": name, "model": name, "digest": digest, "size": size, "modified_at": "2026-11-25T12:00:00Z",
            "details": {}}


def tags(*models):
    return Reply(body={"models": list(models)})


def pull_lines(digest="sha256:" + "c" * 64, total=500, cached=False):
    first = {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total}
    if cached:
        first["completed"] = total
    lines = [{"status": "pulling manifest"}, first]
    if not cached:
        lines.append(dict(first, completed=total // 2))
    lines += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"}]
    return Reply(lines=lines)


def mutations(server):
    return [r for r in server.requests if r.path in MUTATING]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """Record backoff sleeps instead of sleeping."""
    slept = []
    monkeypatch.setattr(ollama_model, "pull_with_retries",
                        functools.partial(_client.pull_with_retries, sleep=slept.append))
    return slept


@pytest.fixture(autouse=True)
def offline_registry(monkeypatch):
    """Names whose registry is not the scripted server (registry.ollama.ai) never leave the machine."""
    real = ollama_model.registry_manifest

    def manifest(name, *args, **kwargs):
        if not name.host.startswith("127.0.0.1:"):
            raise _client.RegistryError(f"Cannot reach the registry ({name.host}): offline unit test")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(ollama_model, "registry_manifest", manifest)


def run(server, check_mode=False, diff=False, **args):
    args.setdefault("url", server.url)
    server.routes.setdefault(("GET", "/api/ps"), [Reply(body={"models": []})])
    return run_module(ollama_model, args, check_mode=check_mode, diff=diff)


def registry_name(server, tag="270m"):
    return f"{server.url[len('http://'):]}/library/gemma3:{tag}"


def manifest_route(server, body, tag="270m", status=200):
    server.on("GET", f"/v2/library/gemma3/manifests/{tag}", Reply(status=status, body=body))
    return hashlib.sha256(body.encode()).hexdigest() if isinstance(body, str) else None


# ------------------------------------------------------------------------------------------------ validation

@pytest.mark.parametrize("args, words", [
    ({"name": ["gemma3:270m", "bad name"]}, "'bad name'"),
    ({"name": ["gemma3:local"]}, "source suffix"),
    ({"name": ["gemma3"], "digest": "sha256:1234"}, "'sha256:1234' is not a sha256 digest"),
    ({"name": ["a", "b"], "digest": D1}, "digest needs exactly one name"),
    ({"name": ["a"], "digest": D1, "state": "latest"}, "digest needs state=present"),
    ({"name": ["a"], "state": "absent", "exclusive": True}, "exclusive needs state=present"),
    ({"name": ["a", "b"], "create": {"from": "gemma3"}}, "create needs exactly one name"),
    ({"name": ["a"], "create": {"from": "bad from"}}, "create.from"),
    ({"name": ["a"], "stall_timeout": 0}, "stall_timeout must be greater than 0"),
    ({"name": ["a"], "retries": -1}, "retries must be 0 or more"),
    ({"name": ["a"], "create": {"from": "g", "messages": [{"role": "user"}]}}, "create.messages[0]"),
])
def test_bad_input_fails_before_any_request(server, args, words):
    result = run(server, **args)
    assert result["failed"] is True
    assert words in result["msg"]
    assert server.requests == []


# ------------------------------------------------------------------------------------------------ present

def test_present_model_is_ok_with_one_tags_call_and_ollama_name_comparison(server):
    server.on("GET", "/api/tags", tags(model("gemma3:latest"), model("user/x:v1", D2)))
    result = run(server, name=["GEMMA3", "registry.ollama.ai/library/gemma3:latest", "user/X:v1"])
    assert result["changed"] is False, result
    assert [m["action"] for m in result["models"]] == ["unchanged", "unchanged"]
    assert result["models"][0]["digest_before"] == result["models"][0]["digest_after"] == D1
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/api/tags")]


def test_present_missing_model_is_pulled_and_reported(server):
    server.on("GET", "/api/tags", tags(), tags(model("gemma3:270m", size=4321)))
    server.on("POST", "/api/pull", pull_lines(total=500))
    result = run(server, name="gemma3:270m", insecure=True)
    assert result["changed"] is True, result
    entry = result["models"][0]
    assert entry["action"] == "pulled" and entry["digest_before"] is None and entry["digest_after"] == D1
    assert entry["size"] == 4321
    assert entry["pull"]["bytes"] == 500 and entry["pull"]["attempts"] == 1 and entry["pull"]["progress_lines"] == 6
    assert entry["pull"]["layers_cached"] == 0
    (pull,) = server.calls("POST", "/api/pull")
    assert pull.json == {"model": "gemma3:270m", "stream": True, "insecure": True}
    assert result["actions"][0].startswith("Pulled gemma3:270m (500 B in ")


def test_present_cached_layers_count_zero_bytes(server):
    server.on("GET", "/api/tags", tags(), tags(model("gemma3:270m")))
    server.on("POST", "/api/pull", pull_lines(cached=True))
    entry = run(server, name="gemma3:270m")["models"][0]
    assert entry["pull"]["bytes"] == 0 and entry["pull"]["bytes_total"] == 500 and entry["pull"]["layers_cached"] == 1


def test_present_check_mode_predicts_and_sends_nothing(server):
    server.on("GET", "/api/tags", tags(model("other:latest")))
    result = run(server, check_mode=True, diff=True, name=["gemma3:270m", "other"])
    assert result["changed"] is True
    assert [m["action"] for m in result["models"]] == ["pulled", "unchanged"]
    assert result["actions"] == ["Would pull gemma3:270m"]
    assert result["diff"] == {"before": "other:latest@aaaaaaaaaaaa\n",
                              "after": "gemma3:270m@unknown\nother:latest@aaaaaaaaaaaa\n"}
    assert mutations(server) == []


# ------------------------------------------------------------------------------------------------ absent

def test_absent_deletes_present_and_ignores_missing(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")), tags())
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, diff=True, name=["gemma3:270m", "missing"], state="absent")
    assert result["changed"] is True
    assert [m["action"] for m in result["models"]] == ["deleted", "unchanged"]
    assert [r.json for r in server.calls("DELETE", "/api/delete")] == [{"model": "gemma3:270m"}]
    assert result["diff"] == {"before": "gemma3:270m@aaaaaaaaaaaa\n", "after": ""}


def test_absent_missing_is_ok_and_check_mode_deletes_nothing(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    assert run(server, name="nothere", state="absent")["changed"] is False
    result = run(server, check_mode=True, name="gemma3:270m", state="absent")
    assert result["changed"] is True and result["actions"] == ["Would delete gemma3:270m"]
    assert mutations(server) == []


# ------------------------------------------------------------------------------------------------ latest

def test_latest_unchanged_when_digest_stays(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    server.on("POST", "/api/pull", pull_lines(cached=True))
    result = run(server, name="gemma3:270m", state="latest")
    assert result["changed"] is False, result
    assert result["models"][0]["action"] == "unchanged"
    assert len(server.calls("POST", "/api/pull")) == 1  # the registry could not be asked: Ollama pulls and checks
    assert result["actions"] == []


def test_latest_updated_when_digest_changes(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")), tags(model("gemma3:270m", D2)))
    server.on("POST", "/api/pull", pull_lines())
    result = run(server, diff=True, name="gemma3:270m", state="latest")
    assert result["changed"] is True
    entry = result["models"][0]
    assert (entry["action"], entry["digest_before"], entry["digest_after"]) == ("updated", D1, D2)
    assert result["diff"] == {"before": "gemma3:270m@aaaaaaaaaaaa\n", "after": "gemma3:270m@bbbbbbbbbbbb\n"}


def test_latest_check_mode_asks_the_registry_same_digest(server):
    name = registry_name(server)
    body = '{"schemaVersion":2,"layers":[]}'
    local = hashlib.sha256(body.encode()).hexdigest()
    manifest_route(server, body)
    server.on("GET", "/api/tags", tags(model(name.replace("gemma3:270m", "gemma3:270m"), local)))
    result = run(server, check_mode=True, name=name, state="latest", insecure=True)
    assert result["changed"] is False, result
    (req,) = server.calls("GET", "/v2/library/gemma3/manifests/270m")
    assert req.headers["Accept"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert mutations(server) == []


def test_latest_check_mode_asks_the_registry_new_digest(server):
    name = registry_name(server)
    served = manifest_route(server, '{"schemaVersion":2,"layers":["new"]}')
    server.on("GET", "/api/tags", tags(model(name, D1)))
    result = run(server, check_mode=True, diff=True, name=name, state="latest", insecure=True)
    assert result["changed"] is True
    entry = result["models"][0]
    assert (entry["action"], entry["digest_before"], entry["digest_after"]) == ("updated", D1, served)
    assert result["diff"]["after"] == f"{name}@{served[:12]}\n"
    assert mutations(server) == []


def test_latest_check_mode_registry_unreachable_predicts_change_and_warns(server):
    server.on("GET", "/api/tags", tags(model("127.0.0.1:1/library/gemma3:270m")))
    result = run(server, check_mode=True, name="127.0.0.1:1/library/gemma3:270m", state="latest", insecure=True)
    assert result["changed"] is True and result["failed"] is False
    assert any("Could not ask the registry" in w and "127.0.0.1:1" in w for w in result["warnings"])
    assert mutations(server) == []


def test_latest_check_mode_registry_404_fails_clearly(server):
    name = registry_name(server, "nope")
    manifest_route(server, {"errors": [{"code": "MANIFEST_UNKNOWN"}]}, tag="nope", status=404)
    server.on("GET", "/api/tags", tags())
    result = run(server, check_mode=True, name=name, state="latest", insecure=True)
    assert result["failed"] is True and not result.get("changed")
    assert f"The registry has no model '{name}'" in result["msg"] and "HTTP 404" in result["msg"]


# ------------------------------------------------------------------------------------------------ exclusive

def test_exclusive_deletes_unnamed_after_pulls(server):
    server.on("GET", "/api/tags", tags(model("keep:latest"), model("old:latest", D2, 77)))
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, name="keep", exclusive=True)
    assert result["changed"] is True
    assert result["removed"] == [{"name": "old:latest", "digest": D2, "size": 77}]
    assert [r.json["model"] for r in server.calls("DELETE", "/api/delete")] == ["old:latest"]


def test_exclusive_check_mode_lists_what_would_go(server):
    server.on("GET", "/api/tags", tags(model("keep:latest"), model("b:latest", D2), model("a:v1", D2)))
    result = run(server, check_mode=True, diff=True, name="keep", exclusive=True)
    assert result["changed"] is True
    assert [r["name"] for r in result["removed"]] == ["a:v1", "b:latest"]
    assert result["actions"] == ["Would delete a:v1 (exclusive)", "Would delete b:latest (exclusive)"]
    assert result["diff"]["after"] == "keep:latest@aaaaaaaaaaaa\n"
    assert mutations(server) == []


def test_exclusive_with_nothing_else_is_ok(server):
    server.on("GET", "/api/tags", tags(model("keep:latest")), tags(model("keep:latest")))
    assert run(server, name="keep", exclusive=True)["changed"] is False


# ------------------------------------------------------------------------------------------------ digest pin

def test_digest_pin_match_needs_no_registry(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    result = run(server, name="gemma3:270m", digest="sha256:" + D1.upper())
    assert result["changed"] is False
    assert [r.path for r in server.requests] == ["/api/tags"]


def test_digest_pin_registry_serves_other_fails_without_pulling(server):
    name = registry_name(server)
    served = manifest_route(server, '{"schemaVersion":2}')
    server.on("GET", "/api/tags", tags())
    for check_mode in (True, False):
        result = run(server, check_mode=check_mode, name=name, digest=D2, insecure=True)
        assert result["failed"] is True and not result.get("changed")
        assert f"sha256:{served}" in result["msg"] and f"sha256:{D2}" in result["msg"]
        assert "nothing was pulled" in result["msg"]
    assert mutations(server) == []


def test_digest_pin_registry_matches_pulls(server):
    name = registry_name(server)
    served = manifest_route(server, '{"schemaVersion":2}')
    server.on("GET", "/api/tags", tags(model(name, D1)), tags(model(name, served)))
    server.on("POST", "/api/pull", pull_lines())
    result = run(server, name=name, digest=served, insecure=True)
    assert result["changed"] is True
    assert (result["models"][0]["action"], result["models"][0]["digest_after"]) == ("updated", served)


def test_digest_pin_unknown_registry_wrong_pull_is_removed_again(server):
    name = "127.0.0.1:1/library/gemma3:270m"   # nothing listens there: the registry cannot be asked
    server.on("GET", "/api/tags", tags(), tags(model(name, D2)))
    server.on("POST", "/api/pull", pull_lines())
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, name=name, digest=D1, insecure=True)
    assert result["failed"] is True and not result.get("changed")
    assert f"sha256:{D2}, not the pinned sha256:{D1}" in result["msg"] and "deleted again" in result["msg"]
    assert [r.json["model"] for r in server.calls("DELETE", "/api/delete")] == [name]


# ------------------------------------------------------------------------------------------------ create

BASE_SHOW = {
    "modelfile": "# Modelfile\nFROM /m/blobs/sha256-base\nTEMPLATE {{ .Prompt }}\n",
    "parameters": 'stop                           "<end>"\nnum_ctx                        4096',
    "template": "{{ .Prompt }}",
    "details": {"parent_model": ""},
}


def derived_show(system="Be brief.", num_ctx="16384", blob="sha256-base"):
    return dict(BASE_SHOW, modelfile=f"FROM /m/blobs/{blob}\n", system=system,
                parameters=f'stop                           "<end>"\nnum_ctx                        {num_ctx}',
                details={"parent_model": "gemma3:270m"})


CREATE = {"from": "gemma3:270m", "system": "Be brief.", "parameters": {"num_ctx": 16384}}


def show_route(server, mapping):
    """/api/show answers by the requested model (the scripted server routes by path only)."""
    replies = [Reply(body=mapping[key]) for key in mapping]
    server.on("POST", "/api/show", *replies)


def test_create_missing_model_is_built(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")), tags(model("gemma3:270m"), model("bot:latest", D2)))
    server.on("POST", "/api/show", Reply(body=BASE_SHOW))
    server.on("POST", "/api/create", Reply(lines=[{"status": "using existing layer sha256:x"},
                                                  {"status": "writing manifest"}, {"status": "success"}]))
    result = run(server, name="bot", create=CREATE)
    assert result["changed"] is True, result
    assert result["models"][0]["action"] == "created" and result["models"][0]["digest_after"] == D2
    (create,) = server.calls("POST", "/api/create")
    assert create.json == {"model": "bot", "from": "gemma3:270m", "system": "Be brief.",
                           "parameters": {"num_ctx": 16384}, "stream": True}


def test_create_matching_model_is_ok(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m"), model("bot:latest", D2)))
    show_route(server, {"base": BASE_SHOW, "bot": derived_show()})
    result = run(server, name="bot", create=CREATE)
    assert result["changed"] is False, result
    assert [r.json["model"] for r in server.calls("POST", "/api/show")] == ["gemma3:270m", "bot:latest"]
    assert mutations(server) == []


@pytest.mark.parametrize("show, why", [
    (derived_show(system="Be long."), "system differs"),
    (derived_show(num_ctx="8192"), "parameters differ: num_ctx"),
    (derived_show(blob="sha256-other"), "weights differ"),
])
def test_create_differing_model_is_rebuilt(server, show, why):
    server.on("GET", "/api/tags", tags(model("gemma3:270m"), model("bot:latest", D2)))
    show_route(server, {"base": BASE_SHOW, "bot": show})
    server.on("POST", "/api/create", Reply(lines=[{"status": "success"}]))
    result = run(server, name="bot", create=CREATE)
    assert result["changed"] is True and result["models"][0]["action"] == "updated"
    assert why in result["actions"][0]
    assert len(server.calls("POST", "/api/create")) == 1


def test_create_check_mode_predicts_and_pulls_nothing(server):
    server.on("GET", "/api/tags", tags())
    result = run(server, check_mode=True, name="bot", create=CREATE)
    assert result["changed"] is True
    assert result["actions"] == ["Would pull gemma3:270m", "Would create bot from gemma3:270m"]
    assert mutations(server) == []


def test_create_pulls_a_missing_base_first(server):
    server.on("GET", "/api/tags", tags(), tags(model("gemma3:270m"), model("bot:latest", D2)))
    server.on("POST", "/api/pull", pull_lines())
    server.on("POST", "/api/create", Reply(lines=[{"status": "success"}]))
    result = run(server, name="bot", create=CREATE, insecure=True)
    assert result["changed"] is True
    assert [r.path for r in mutations(server)] == ["/api/pull", "/api/create"]
    assert server.calls("POST", "/api/pull")[0].json["insecure"] is True


def test_exclusive_create_check_mode_predicts_the_base_deletion_of_the_real_run(server):
    """create pulls its missing base, which exclusive then deletes (it is not named): check mode says so too."""
    server.on("GET", "/api/tags", tags())
    check = run(server, check_mode=True, diff=True, name="bot", create=CREATE, exclusive=True)
    assert check["actions"] == ["Would pull gemma3:270m", "Would create bot from gemma3:270m",
                                "Would delete gemma3:270m (exclusive)"]
    assert [r["name"] for r in check["removed"]] == ["gemma3:270m"]
    assert check["diff"]["after"] == "bot:latest@unknown\n"
    assert mutations(server) == []
    after = tags(model("gemma3:270m"), model("bot:latest", D2))
    # before, the pull's own check, after the create, before the exclusive deletions, the diff
    server.on("GET", "/api/tags", tags(), after, after, after, tags(model("bot:latest", D2)))
    server.on("POST", "/api/pull", pull_lines())
    server.on("POST", "/api/create", Reply(lines=[{"status": "success"}]))
    server.on("DELETE", "/api/delete", Reply(body=None))
    real = run(server, diff=True, name="bot", create=CREATE, exclusive=True)
    assert real["changed"] is True
    assert [r["name"] for r in real["removed"]] == [r["name"] for r in check["removed"]]
    done = [line.split(" (")[0] for line in real["actions"]]
    assert done == ["Pulled gemma3:270m", "Created bot from gemma3:270m", "Deleted gemma3:270m"]
    assert real["diff"]["after"] == "bot:latest@bbbbbbbbbbbb\n"


def test_create_error_line_fails_with_server_text(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    server.on("POST", "/api/show", Reply(body=BASE_SHOW))
    server.on("POST", "/api/create", Reply(lines=[{"status": "parsing"}, {"error": "template error: bad"}]))
    result = run(server, name="bot", create=dict(CREATE, template="{{ .Bad"))
    assert result["failed"] is True
    assert "Building bot from gemma3:270m failed" in result["msg"] and "template error: bad" in result["msg"]


# ------------------------------------------------------------------------------------------------ faults

def test_error_line_inside_200_pull_fails_without_retry_and_claims_nothing(server):
    server.on("GET", "/api/tags", tags())
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"},
                                                {"error": "pull model manifest: file does not exist"}]))
    result = run(server, name="nothere:v9")
    assert result["failed"] is True and not result.get("changed")
    assert f"Ollama at {server.url} could not pull nothere:v9 (POST /api/pull): " in result["msg"]
    assert "Pulling nothere:v9 failed" not in result["msg"]  # said once, not twice
    assert "pull model manifest: file does not exist" in result["msg"] and "POST /api/pull" in result["msg"]
    assert "the registry registry.ollama.ai has no library/nothere:v9" in result["msg"]
    assert result["models"] == []
    assert len(server.calls("POST", "/api/pull")) == 1


def test_dropped_stream_is_retried_and_resumes(server, no_backoff):
    server.on("GET", "/api/tags", tags(), tags(model("gemma3:270m")))
    partial = {"status": "pulling cccc", "digest": "sha256:c", "total": 900, "completed": 300}
    first = [{"status": "pulling manifest"}, partial, Reply.DROP]
    server.on("POST", "/api/pull", Reply(lines=first), pull_lines(digest="sha256:c", total=900))
    result = run(server, name="gemma3:270m")
    assert result["changed"] is True, result
    assert result["models"][0]["pull"]["attempts"] == 2
    assert result["models"][0]["pull"]["bytes"] == 900
    assert no_backoff == [2.0]
    assert len(server.calls("POST", "/api/pull")) == 2


def test_retries_give_up_with_attempt_count(server, no_backoff):
    server.on("GET", "/api/tags", tags())
    server.on("POST", "/api/pull", Reply(status=500, body={"error": "boom"}))
    result = run(server, name="gemma3:270m", retries=2)
    assert result["failed"] is True and not result.get("changed")
    assert "HTTP 500" in result["msg"] and "boom" in result["msg"] and "after 3 attempts" in result["msg"]
    assert no_backoff == [2.0, 4.0]


def test_stall_is_stopped(server):
    server.on("GET", "/api/tags", tags())
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, ("sleep", 2.0), {"status": "success"}]))
    result = run(server, name="gemma3:270m", stall_timeout=0.3, retries=0)
    assert result["failed"] is True and not result.get("changed")
    assert "stall_timeout" in result["msg"] and "0.3" in result["msg"]


@pytest.mark.parametrize("reply, words", [
    (Reply(status=500, body={"error": "disk on fire"}), "HTTP 500 to GET /api/tags: disk on fire"),
    (Reply(status=404, body="404 page not found"), "HTTP 404 to GET /api/tags: 404 page not found"),
    (Reply(body="{not json"), "the answer is not JSON"),
])
def test_api_errors_name_url_and_operation(server, reply, words):
    server.on("GET", "/api/tags", reply)
    result = run(server, name="gemma3:270m")
    assert result["failed"] is True and not result.get("changed")
    assert server.url in result["msg"] and words in result["msg"]
    assert mutations(server) == []


def test_delete_failure_reports_partial_progress(server):
    server.on("GET", "/api/tags", tags(model("a:latest"), model("b:latest")))
    server.on("DELETE", "/api/delete", Reply(body=None), Reply(status=500, body={"error": "busy"}))
    result = run(server, name=["a", "b"], state="absent")
    assert result["failed"] is True and result["changed"] is True
    assert result["actions"] == ["Deleted a:latest"]
    assert "Deleting b:latest failed" in result["msg"] and "busy" in result["msg"]


def test_no_secret_in_result(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    result = run(server, name="gemma3:270m", api_key="s3cr3t-value", headers={"X-Token": "hidden-value"})
    assert result["changed"] is False
    assert "s3cr3t-value" not in json.dumps(result) and "hidden-value" not in json.dumps(result)
    assert server.requests[0].headers["Authorization"] == "Bearer s3cr3t-value"


# ------------------------------------------------------------------------------------------------ loaded models

def ps(*entries):
    return Reply(body={"models": [dict(name=n, model=n, digest=d, size=10, size_vram=0,
                                       expires_at="2318-01-01T00:00:00Z") for n, d in entries]})


def test_absent_unloads_a_loaded_model_first_and_waits(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    server.on("GET", "/api/ps", ps(("gemma3:270m", D1)), ps(("gemma3:270m", D1)), ps())
    server.on("POST", "/api/generate", Reply(body={"done": True, "done_reason": "unload"}))
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, name="gemma3:270m", state="absent")
    assert result["changed"] is True, result
    assert [(r.method, r.path) for r in server.requests if r.path != "/api/ps"] == [
        ("GET", "/api/tags"), ("POST", "/api/generate"), ("DELETE", "/api/delete")]
    (unload,) = server.calls("POST", "/api/generate")
    assert unload.json == {"model": "gemma3:270m", "prompt": "", "keep_alive": 0, "stream": False}
    assert result["actions"] == ["Unloaded gemma3:270m before deleting gemma3:270m", "Deleted gemma3:270m"]


def test_absent_check_mode_predicts_the_unload(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m")))
    server.on("GET", "/api/ps", ps(("gemma3:270m", D1)))
    result = run(server, check_mode=True, name="gemma3:270m", state="absent")
    assert result["actions"] == ["Would unload gemma3:270m before deleting gemma3:270m", "Would delete gemma3:270m"]
    assert mutations(server) == [] and server.calls("POST", "/api/generate") == []


def test_deleting_an_alias_keeps_the_runner_of_its_remaining_source(server):
    server.on("GET", "/api/tags", tags(model("gemma3:270m"), model("chat:latest")))
    server.on("GET", "/api/ps", ps(("gemma3:270m", D1)))
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, name="chat", state="absent")
    assert result["actions"] == ["Deleted chat:latest"]
    assert server.calls("POST", "/api/generate") == []


def test_exclusive_unloads_what_it_deletes(server):
    server.on("GET", "/api/tags", tags(model("keep:latest"), model("old:latest", D2)))
    server.on("GET", "/api/ps", ps(("old:latest", D2)), ps())
    server.on("POST", "/api/generate", Reply(body={"done": True}))
    server.on("DELETE", "/api/delete", Reply(body=None))
    result = run(server, name="keep", exclusive=True)
    assert result["actions"] == ["Unloaded old:latest before deleting old:latest",
                                 "Deleted old:latest (exclusive)"]
    assert [r.json["model"] for r in server.calls("POST", "/api/generate")] == ["old:latest"]


# ------------------------------------------------------------------------------------------------ pull figures

def test_pull_figures_come_from_the_manifest_and_the_servers_blobs(server):
    name = registry_name(server)
    layers = {"sha256:" + "1" * 64: 1000, "sha256:" + "2" * 64: 20}
    config = {"digest": "sha256:" + "3" * 64, "size": 5}
    body = json.dumps({"schemaVersion": 2, "config": config,
                       "layers": [{"digest": d, "size": n} for d, n in layers.items()]})
    manifest_route(server, body)
    server.on("HEAD", "/api/blobs/sha256:" + "1" * 64, Reply(status=404, body=None))
    server.on("HEAD", "/api/blobs/sha256:" + "2" * 64, Reply(status=404, body=None))
    server.on("HEAD", "/api/blobs/sha256:" + "3" * 64, Reply(body=None))
    server.on("GET", "/api/tags", tags(), tags(model(name)))
    # The tiny layer and the config look like cache hits in the progress lines; only the manifest tells.
    server.on("POST", "/api/pull", Reply(lines=[
        {"status": "pulling manifest"},
        {"status": "pulling 111111111111", "digest": "sha256:" + "1" * 64, "total": 1000, "completed": 10},
        {"status": "pulling 222222222222", "digest": "sha256:" + "2" * 64, "total": 20, "completed": 20},
        {"status": "pulling 333333333333", "digest": "sha256:" + "3" * 64, "total": 5, "completed": 5},
        {"status": "success"}]))
    pull = run(server, name=name, insecure=True)["models"][0]["pull"]
    assert (pull["bytes"], pull["bytes_total"], pull["layers"], pull["layers_cached"], pull["counted_from"]) == (
        1020, 1025, 3, 1, "manifest")


def test_pull_figures_fall_back_to_progress_lines_without_the_registry(server):
    server.on("GET", "/api/tags", tags(), tags(model("gemma3:270m")))
    server.on("POST", "/api/pull", pull_lines(total=500))
    pull = run(server, name="gemma3:270m")["models"][0]["pull"]
    assert pull["counted_from"] == "progress" and pull["bytes"] == 500


# ------------------------------------------------------------------------------------------------ quantize

def quantized_show(level="Q8_0", info=None):
    return {"details": {"parent_model": "", "quantization_level": level}, "modelfile": "FROM /blobs/sha256-q",
            "parameters": "", "model_info": info or {"general.architecture": "bert", "general.file_type": 7,
                                                     "bert.block_count": 6}}


@pytest.mark.parametrize("existing, why", [
    (quantized_show(), None),
    (quantized_show(level="Q4_K_M"), "quantization: 'Q4_K_M', not 'Q8_0'"),
    (quantized_show(info={"general.architecture": "bert", "general.file_type": 7, "bert.block_count": 12}),
     "model metadata differs"),
])
def test_quantized_model_compares_level_and_metadata(existing, why):
    base = quantized_show(level="F32", info={"general.architecture": "bert", "general.file_type": 0,
                                             "bert.block_count": 6})
    spec = {"from": "base", "quantize": "Q8_0", "system": None, "template": None, "parameters": None,
            "messages": None, "license": None}
    diffs = ollama_model.create_differences(existing, base, spec)
    if why is None:
        assert diffs == []
    else:
        assert any(why in d for d in diffs), diffs


# ------------------------------------------------------------------------------------------------ latest stays flat

def test_latest_pulls_only_what_the_registry_changed(server):
    bodies = {tag: json.dumps({"schemaVersion": 2, "tag": tag}) for tag in ("t1", "t2", "t3")}
    digests = {tag: manifest_route(server, body, tag=tag) for tag, body in bodies.items()}
    names = {tag: registry_name(server, tag) for tag in bodies}
    installed = [model(names["t1"], digests["t1"]), model(names["t2"], D2), model(names["t3"], digests["t3"])]
    server.on("GET", "/api/tags", tags(*installed), tags(installed[0], model(names["t2"], digests["t2"]), installed[2]))
    server.on("POST", "/api/pull", pull_lines())
    result = run(server, name=list(names.values()), state="latest", insecure=True)
    assert result["changed"] is True, result
    assert [m["action"] for m in result["models"]] == ["unchanged", "updated", "unchanged"]
    assert [r.json["model"] for r in server.calls("POST", "/api/pull")] == [names["t2"]]
    assert len(server.calls("GET", "/api/tags")) == 2
    assert {r.path for r in server.calls("GET")} >= {f"/v2/library/gemma3/manifests/{tag}" for tag in bodies}


def test_latest_without_changes_sends_no_pull(server):
    body = json.dumps({"schemaVersion": 2})
    digest = manifest_route(server, body)
    server.on("GET", "/api/tags", tags(model(registry_name(server), digest)))
    result = run(server, name=registry_name(server), state="latest", insecure=True)
    assert result["changed"] is False and result["models"][0]["action"] == "unchanged"
    assert mutations(server) == []
