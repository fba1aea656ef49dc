# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Callback plugin for tools/bench.py: times every task named ``bench|...`` and attaches what it cost.

For each such task it records, as one JSON line in $BENCH_RESULTS: the wall time from the task's start to its
last host result (loops included, every host of the play), the request counts of the counting proxies
($BENCH_CONTROL_URL: reset when the task starts, read when it ends; see tests/rig/counting_proxy.py), the
module peak RSS lines the interpreter wrapper appended to $BENCH_RSS_FILE meanwhile, and whether it failed.
Ansible's linear strategy starts a task only when every host finished the previous one, so nothing else runs
between the reset and the read.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Times the bench|... tasks of tools/bench.py
description:
  - Writes one JSON line per task named C(bench|...) to E(BENCH_RESULTS).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""


def _control(path):
    url = os.environ.get("BENCH_CONTROL_URL")
    if not url:
        return None
    with urllib.request.urlopen(url + path, timeout=30) as resp:
        return json.loads(resp.read())


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._task = None

    def _finish(self):
        task, self._task = self._task, None
        if task is None:
            return
        end = task["last"] or time.monotonic()
        record = {
            "name": task["name"],
            "seconds": round(end - task["start"], 4),
            "hosts": task["hosts"],
            "failed": task["failed"],
            "errors": task["errors"][:3],
            "counts": _control("/counts"),
            "rss_kb": self._take_rss(),
        }
        with open(os.environ["BENCH_RESULTS"], "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    @staticmethod
    def _take_rss():
        path = os.environ.get("BENCH_RSS_FILE")
        if not path or not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as lines:
            found = [json.loads(line)["maxrss_kb"] for line in lines if line.strip()]
        os.remove(path)
        return found

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._finish()
        name = task.get_name()
        if name.startswith("bench|"):
            self._take_rss()
            _control("/reset")
            self._task = {"name": name, "start": time.monotonic(), "last": None, "hosts": 0, "failed": False,
                          "errors": []}

    def _result(self, result, failed=False):
        if self._task is None:
            return
        self._task["last"] = time.monotonic()
        self._task["hosts"] += 1
        if failed:
            self._task["failed"] = True
            res = result._result  # pylint: disable=protected-access
            self._task["errors"].append(str(res.get("msg") or res.get("stderr") or res)[:500])

    def v2_runner_on_ok(self, result):
        self._result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._result(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._result(result)

    def v2_playbook_on_stats(self, stats):
        self._finish()
