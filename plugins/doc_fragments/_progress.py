# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:

    # Progress options of ollama_model and ollama_loaded (argument spec: module_utils/_progress.py; the
    # controller side: plugin_utils/_progress.py and the action plugins).
    DOCUMENTATION = r"""
options:
  progress:
    description:
      - Show the progress of long pulls, builds and loads on the controller while the task runs, one line per
        host per O(progress_interval), for example
        C(gpu-03 | pulling qwen2.5:72b  41% 19.2/47.4 GB  112 MB/s  ETA 4m12s) (with C((attempt 2/4)) when a
        pull is retried), and a last line when that operation ends.
      - To do that, the action plugin starts the module in the background on the host (as C(async) does) and
        reads its progress every O(progress_interval) seconds. So a pull also survives a dropped connection;
        the poller retries for up to five minutes and the pull goes on meanwhile.
      - V(auto) shows lines only while a transfer actually happens (a pull that downloads bytes, a build or a
        load that takes longer than one interval). A model that is already installed prints nothing. The module
        first runs the plain way and goes to the background only when its plan pulls, builds or loads, so a task
        with nothing to do costs what it costs without progress.
      - V(always) prints one line per interval whatever the module does.
      - V(never) runs the module the plain way (no background job, no lines).
      - If not set, the environment variable E(LLMOPS_OLLAMA_PROGRESS) on the controller is used, then
        C(progress) in the C([llmops_ollama]) section of C(ansible.cfg), then V(auto).
      - Progress is never shown in check mode (nothing is transferred), nor when the task sets C(async) (Ansible
        then polls the job itself), nor when the task deletes or unloads models. The task's
        result is the same with and without progress.
    type: str
    choices: [auto, always, never]
  progress_interval:
    description:
      - Seconds between two progress lines of a host (at least V(0.5)).
      - If not set, the environment variable E(LLMOPS_OLLAMA_PROGRESS_INTERVAL) on the controller is used, then
        C(progress_interval) in the C([llmops_ollama]) section of C(ansible.cfg), then V(10).
    type: float
  progress_log:
    description:
      - A file on the host the module runs on to append the same progress lines to, each prefixed with a UTC
        timestamp, so that someone on that host can follow a long pull with C(tail -f).
      - Lines are written with the rules of O(progress) (V(never) counts as V(auto) here), also when the task
        runs with C(async). Nothing is written in check mode.
      - The task fails before it changes anything when the file cannot be appended to.
    type: path
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on
      the controller.
    support: full
    details:
      - The action plugin shows the progress (O(progress)); the module does the work on the host.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details:
      - With C(async) on the task, Ansible runs and polls the job itself and O(progress) shows nothing on the
        controller (O(progress_log) still works).
"""
