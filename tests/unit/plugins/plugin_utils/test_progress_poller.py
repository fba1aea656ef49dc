# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""plugin_utils/_progress.py: where the settings come from, and how the poller reads the host's files."""

from __future__ import annotations

import json

from ansible_collections.llmops.ollama.plugins.plugin_utils._progress import (
    job_running,
    resolve_settings,
    split_poll_output,
)

MARK = "\n--llmops-ollama-job--\n"


def cfg(tmp_path, text):
    path = tmp_path / "ansible.cfg"
    path.write_text(text)
    return str(path)


def test_the_task_wins_then_the_environment_then_ansible_cfg_then_the_defaults(tmp_path):
    config = cfg(tmp_path, "[defaults]\nforks = 5\n[llmops_ollama]\nprogress = always\nprogress_interval = 3\n")
    env = {"LLMOPS_OLLAMA_PROGRESS": "never", "LLMOPS_OLLAMA_PROGRESS_INTERVAL": "7"}
    assert resolve_settings({"progress": "auto", "progress_interval": 2}, env, config) == ("auto", 2.0, None)
    assert resolve_settings({}, env, config) == ("never", 7.0, None)
    assert resolve_settings({}, {}, config) == ("always", 3.0, None)
    assert resolve_settings({}, {}, cfg(tmp_path, "[defaults]\n")) == ("auto", 10.0, None)
    assert resolve_settings({}, {}, "") == ("auto", 10.0, None)


def test_a_bad_switch_value_is_named_and_falls_back(tmp_path):
    mode, interval, problem = resolve_settings({}, {"LLMOPS_OLLAMA_PROGRESS": "off"},
                                               cfg(tmp_path, "[llmops_ollama]\nprogress_interval = soon\n"))
    assert (mode, interval) == ("auto", 10.0)
    assert "LLMOPS_OLLAMA_PROGRESS: 'off' is not one of auto, always, never; using auto" in problem
    assert "[llmops_ollama] progress_interval in " in problem and "'soon' is not a number" in problem


def test_the_interval_has_a_floor():
    assert resolve_settings({"progress_interval": 0.01}, {}, "")[1] == 0.5


def test_only_complete_lines_count_and_the_offset_is_in_bytes():
    first, second = json.dumps("pulling m  5% 13/253 MB"), json.dumps("pulling \u00e9")
    out = f"{first}\n{second}\n{json.dumps('partial')[:4]}{MARK}" + '{"started": true, "finished": false}'
    lines, offset, head = split_poll_output(out, 10)
    assert lines == ["pulling m  5% 13/253 MB", "pulling \u00e9"]
    assert offset == 10 + len(first) + len(second) + 2
    assert job_running(head)


def test_nothing_new():
    assert split_poll_output(MARK + "{}", 42) == ([], 42, "{}")


def test_the_job_file_says_running_in_the_forms_of_every_supported_ansible_core():
    assert job_running('{"started": 1, "finished": 0, "ansible_job_id": "j1.2"}')    # 2.16 - 2.18
    assert job_running('{"started": true, "finished": false, "ansible_job_id": "j1"}')
    assert not job_running('{"changed": true, "models": []}')
    assert not job_running('{"msg": "Timeout exceeded", "failed": true, "child_pid": 7}')
    assert not job_running("")
