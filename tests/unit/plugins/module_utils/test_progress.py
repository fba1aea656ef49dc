# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""module_utils/_progress.py: the lines, when they are written, and where; the hook in pull_with_retries."""

from __future__ import annotations

import json

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._client import OllamaClient, pull_with_retries
from ansible_collections.llmops.ollama.plugins.module_utils._progress import (
    ENV_JOB,
    Operation,
    Progress,
    format_duration,
    format_pair,
)
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def progress(tmp_path, clock, job=None, **params):
    job = job or {"file": str(tmp_path / "async" / "status"), "mode": "auto", "interval": 10}
    return Progress(params, environ={ENV_JOB: json.dumps(job)}, clock=clock, wall=lambda: 0.0, start_thread=False)


def status_lines(tmp_path):
    path = tmp_path / "async" / "status"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_durations_and_pairs():
    assert [format_duration(s) for s in (0, 9.4, 61, 252, 3720)] == ["0s", "9s", "1m01s", "4m12s", "1h02m"]
    assert format_pair(19.2e9, 47.4e9) == "19.2/47.4 GB"
    assert format_pair(13e6, 253e6) == "13/253 MB"
    assert format_pair(10, 500) == "10/500 B"


def test_a_pull_line_has_percent_bytes_rate_eta_and_the_attempt(tmp_path):
    clock = Clock()
    prog = progress(tmp_path, clock)
    with prog.pull("qwen2.5:72b", planned={A: [40_000_000_000, False], B: [7_400_000_000, True]}, attempts=4) as op:
        op.see({"status": "pulling aaaa", "digest": A, "total": 40_000_000_000, "completed": 0})
        clock.now += 10
        op.see({"status": "pulling aaaa", "digest": A, "total": 40_000_000_000, "completed": 1_120_000_000}, 2)
        prog.tick()
        clock.now += 5
    lines = status_lines(tmp_path)
    # 1.12 GB in 10 s = 112 MB/s; 8.52 of 47.4 GB done (the cached layer counts as done, not as downloaded).
    assert lines[0] == "pulling qwen2.5:72b  17% 8.5/47.4 GB  112 MB/s  ETA 5m47s  (attempt 2/4)"
    assert lines[1] == "pulled qwen2.5:72b  47.4 GB in 15s"


def test_auto_writes_nothing_for_a_pull_that_downloads_nothing(tmp_path):
    clock = Clock()
    prog = progress(tmp_path, clock, progress_log=str(tmp_path / "log"))
    with prog.pull("gemma3:270m", planned={A: [500, True]}) as op:
        op.see({"status": "pulling aaaa", "digest": A, "total": 500, "completed": 500})
        clock.now += 30
        prog.tick()
    assert status_lines(tmp_path) == []
    assert not (tmp_path / "log").read_text() if (tmp_path / "log").exists() else True


def test_always_writes_every_interval_and_the_log_has_the_same_lines_with_a_timestamp(tmp_path):
    clock = Clock()
    log = tmp_path / "progress.log"
    prog = progress(tmp_path, clock, progress_log=str(log),
                    job={"file": str(tmp_path / "async" / "status"), "mode": "always", "interval": 2})
    prog.tick()
    with prog.load("gemma3:270m", size=253_000_000):
        clock.now += 3
        prog.tick()
    assert status_lines(tmp_path) == ["working  0s", "loading gemma3:270m (253 MB)  3s", "loaded gemma3:270m in 3s"]
    assert log.read_text().splitlines() == [f"1970-01-01T00:00:00Z {line}" for line in status_lines(tmp_path)]


def test_a_retry_is_shown_with_its_delay_and_the_error(tmp_path):
    clock = Clock()
    prog = progress(tmp_path, clock)
    with prog.pull("m", attempts=4) as op:
        op.see({"status": "pulling aaaa", "digest": A, "total": 1000, "completed": 0})
        op.see({"status": "pulling aaaa", "digest": A, "total": 1000, "completed": 400})
        op.retrying(2, 4.0, "Cannot reach Ollama at http://x (POST /api/pull): connection refused")
        clock.now += 1
        prog.tick()
    assert status_lines(tmp_path)[0] == "pulling m  40% 0.4/1.0 KB  retrying in 3s: connection refused  (attempt 2/4)"


def test_check_mode_writes_nothing_not_even_the_log(tmp_path):
    job = {ENV_JOB: json.dumps({"file": str(tmp_path / "status"), "mode": "always"})}
    prog = Progress({"progress_log": str(tmp_path / "log")}, enabled=False, environ=job, start_thread=False)
    assert prog.check() is None
    with prog.pull("m"):
        prog.tick()
    assert not (tmp_path / "log").exists() and not (tmp_path / "status").exists()


def test_an_unwritable_progress_log_is_named(tmp_path):
    prog = Progress({"progress_log": str(tmp_path / "missing" / "log")}, environ={}, start_thread=False)
    assert prog.check().startswith(f"progress_log: cannot append to {tmp_path / 'missing' / 'log'}: ")


def test_layers_before_the_current_one_count_as_done_without_a_last_line():
    op = Operation("pulling", "pulled", "m", Clock(), transfer=True)
    op.see({"digest": A, "total": 100, "completed": 60})
    op.see({"digest": B, "total": 50, "completed": 10})
    assert op.figures() == (110, 150, 40)  # 60 bytes of A were there already (a resumed download)


def test_pull_with_retries_tells_the_progress_every_line_and_every_retry(server):
    lines = [{"status": "pulling manifest"},
             {"status": "pulling 6a07", "digest": A, "total": 100, "completed": 50}, Reply.DROP]
    done = [{"status": "pulling 6a07", "digest": A, "total": 100, "completed": 100}, {"status": "success"}]
    server.on("POST", "/api/pull", Reply(lines=lines), Reply(lines=done))
    server.on("GET", "/api/tags", Reply(body={"models": [{"name": "m:latest", "model": "m:latest"}]}))
    seen = []

    class Recorder:
        def see(self, item, attempt):
            seen.append((attempt, item.get("completed")))

        def retrying(self, attempt, delay, error):
            seen.append(("retry", attempt, delay))

    pull_with_retries(OllamaClient(server.url), "m", sleep=lambda s: None, backoff=2.0, progress=Recorder())
    assert seen == [(1, None), (1, 50), ("retry", 2, 2.0), (2, 100), (2, None)]


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_no_status_file_and_no_log_means_no_thread(mode):
    prog = Progress({"progress": mode}, environ={ENV_JOB: "not json"})
    assert not prog.enabled and prog._thread is None
