# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The progress options of ollama_model and ollama_loaded against a scripted server (the hooks in the modules)."""

from __future__ import annotations

import json
import re

from ansible_collections.llmops.ollama.plugins.module_utils._progress import ENV_JOB, PROBE_KEY
from ansible_collections.llmops.ollama.plugins.modules import ollama_loaded, ollama_model
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

DIGEST = "sha256:" + "c" * 64
ENTRY = {"name": "m:latest", "model": "m:latest", "digest": "d" * 64, "size": 2000, "details": {}}


def slow_pull():
    """A pull of 2000 bytes that takes about 1.2 s."""
    lines = [{"status": "pulling manifest"}]
    lines += [{"status": "pulling cccc", "digest": DIGEST, "total": 2000, "completed": 200 * i} for i in range(1, 11)]
    lines += [{"status": "verifying sha256 digest"}, {"status": "success"}]
    return Reply(lines=lines, line_delay=0.1)


def test_a_pull_writes_its_lines_to_progress_log_and_the_status_file(server, tmp_path, monkeypatch):
    server.on("GET", "/api/tags", Reply(body={"models": []}), Reply(body={"models": [ENTRY]}))
    server.on("POST", "/api/pull", slow_pull())
    log, status = tmp_path / "pull.log", tmp_path / "async" / "status"
    monkeypatch.setenv(ENV_JOB, json.dumps({"file": str(status), "mode": "auto", "interval": 0.5}))
    result = run_module(ollama_model, {"url": server.url, "name": ["m"], "progress_log": str(log)})
    assert result["changed"] and not result["failed"], result
    controller = [json.loads(line) for line in status.read_text().splitlines()]
    logged = log.read_text().splitlines()
    assert len(controller) >= 2 and [re.sub(r"^\S+Z ", "", line) for line in logged] == controller
    assert re.fullmatch(r"pulling m  \d+% [\d.]+/2.0 KB  [\d.]+ K?B/s  ETA \d+s", controller[0]), controller
    assert re.fullmatch(r"pulled m  2.0 KB in \ds", controller[-1]), controller
    assert set(result) == {"changed", "models", "removed", "actions", "failed", "warnings"}  # nothing added


def test_an_unwritable_progress_log_fails_before_any_request(server, tmp_path):
    result = run_module(ollama_model, {"url": server.url, "name": ["m"],
                                       "progress_log": str(tmp_path / "no" / "such" / "dir" / "log")})
    assert result["failed"] and result["msg"].startswith("progress_log: cannot append to ")
    assert server.requests == []


def test_check_mode_creates_no_progress_log(server, tmp_path):
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    log = tmp_path / "pull.log"
    args = {"url": server.url, "name": ["m"], "progress_log": str(log), "progress": "always"}
    result = run_module(ollama_model, args, check_mode=True)
    assert result["changed"] and not log.exists()


def test_a_load_is_shown_while_it_lasts(server, tmp_path):
    loaded = dict(ENTRY, expires_at="x", size_vram=0)
    server.on("GET", "/api/ps", Reply(body={"models": []}), Reply(body={"models": [loaded]}))
    server.on("GET", "/api/tags", Reply(body={"models": [ENTRY]}))
    server.on("POST", "/api/show", Reply(body={"capabilities": ["completion"]}))
    server.on("POST", "/api/generate", Reply(body={"done": True}, delay=1.2))
    log = tmp_path / "load.log"
    result = run_module(ollama_loaded, {"url": server.url, "name": ["m"], "progress_log": str(log),
                                        "progress_interval": 0.5})
    assert result["changed"] and not result["failed"], result
    lines = [re.sub(r"^\S+Z ", "", line) for line in log.read_text().splitlines()]
    assert lines[0] == "loading m:latest (2.0 KB)  0s" or lines[0] == "loading m:latest (2.0 KB)  1s", lines
    assert re.fullmatch(r"loaded m:latest in \ds", lines[-1]), lines


# -- progress auto: the action plugin's probe run (a plain run first, handed over only for long work)

def probe(monkeypatch):
    monkeypatch.setenv(ENV_JOB, json.dumps({"mode": "auto", "interval": 10, "probe": True}))


def test_a_probe_with_a_pull_to_do_hands_over_before_changing_anything(server, monkeypatch):
    probe(monkeypatch)
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run_module(ollama_model, {"url": server.url, "name": ["m"]})
    assert result[PROBE_KEY] is True and result["changed"] is False
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/api/tags")]  # planned, nothing pulled


def test_a_probe_with_nothing_to_do_is_the_run_itself(server, monkeypatch):
    probe(monkeypatch)
    server.on("GET", "/api/tags", Reply(body={"models": [ENTRY]}))
    result = run_module(ollama_model, {"url": server.url, "name": ["m"]})
    assert PROBE_KEY not in result and result["changed"] is False and result["models"][0]["action"] == "unchanged"


def test_a_probe_with_a_load_to_do_hands_over_and_loads_nothing(server, monkeypatch):
    probe(monkeypatch)
    server.on("GET", "/api/ps", Reply(body={"models": []}))
    server.on("GET", "/api/tags", Reply(body={"models": [ENTRY]}))
    server.on("POST", "/api/show", Reply(body={"capabilities": ["completion"]}))
    result = run_module(ollama_loaded, {"url": server.url, "name": ["m"]})
    assert result[PROBE_KEY] is True
    assert not server.calls("POST", "/api/generate")


def test_check_mode_never_hands_over(server, monkeypatch):
    probe(monkeypatch)
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run_module(ollama_model, {"url": server.url, "name": ["m"]}, check_mode=True)
    assert PROBE_KEY not in result and result["changed"] is True
