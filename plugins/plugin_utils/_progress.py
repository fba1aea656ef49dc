# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins!

"""The controller side of progress: run the module in the background on the host and relay its progress lines.

When progress applies (not check mode, no ``async`` on the task, a connection that can run Ansible's
``async_wrapper``, and a state that can transfer something), the action plugin starts the module the way
``async`` does, with the environment variable ``LLMOPS_OLLAMA_PROGRESS_JOB`` naming a status file next to the
job file in the async directory (and the mode and interval resolved here). Every interval it reads, in one
shell command over the connection, the new lines of that file (the module writes one per interval, see
module_utils/_progress.py) and the head of the job file; it prints each new line as ``<host> | <line>``.
When the job file holds the result, it is read with ``async_status`` (so it is parsed exactly as Ansible
parses any module result), both files are removed, and the result is returned without the keys the
background run adds: the task's result is the same as without progress.

With ``progress: auto`` (the default) the module first runs plainly with ``probe`` in that variable: when its
plan has nothing long to do (no pull, build or load) that run is the task's run, as fast as without progress;
when it has, the module answers ``{PROBE_KEY: true}`` before changing anything and is run again as above.

Otherwise the module runs the way the ``normal`` action plugin runs it (with the mode and interval in the same
variable, for ``progress_log``).
"""

from __future__ import annotations

import configparser
import json
import os
import posixpath
import re
import secrets
import shlex
import time

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

MODES = ("auto", "always", "never")
DEFAULT_MODE = "auto"
DEFAULT_INTERVAL = 10.0
MIN_INTERVAL = 0.5
ENV_MODE = "LLMOPS_OLLAMA_PROGRESS"
ENV_INTERVAL = "LLMOPS_OLLAMA_PROGRESS_INTERVAL"
CONFIG_SECTION = "llmops_ollama"
ENV_JOB = "LLMOPS_OLLAMA_PROGRESS_JOB"  # module_utils/_progress.py reads it
PROBE_KEY = "llmops_ollama_progress_probe"  # module_utils/_progress.py: the module's "run me polled" answer

# The background job's own time limit (async_wrapper kills it after this); the module bounds every request
# and every stall itself, so this only catches a module that hangs for a week.
ASYNC_LIMIT = 7 * 24 * 3600
# How long the poller keeps trying while the connection to the host fails (the job goes on meanwhile).
GIVE_UP_AFTER = 300.0
# The first polls come sooner (0.25 s, doubling up to the interval), so a task that has nothing to transfer
# ends about as fast as a plain run.
FIRST_POLL = 0.25
_MARK = "--llmops-ollama-job--"
_RUNNING = re.compile(r'^\s*\{"started": (?:1|true), "finished": (?:0|false)')
# Keys async_status and async_wrapper add to a module's result.
_ASYNC_KEYS = ("ansible_job_id", "finished", "started", "results_file", "stdout", "stdout_lines", "stderr",
               "stderr_lines")


def _config_file_values(path):
    values = {}
    if not path:
        return values
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error:
        return values
    if parser.has_section(CONFIG_SECTION):
        for key in ("progress", "progress_interval"):
            if parser.has_option(CONFIG_SECTION, key):
                values[key] = parser.get(CONFIG_SECTION, key).strip()
    return values


def resolve_settings(args, environ=None, config_file=None):
    """(mode, interval, problem) from the task, else the environment, else ansible.cfg, else the defaults.

    ``problem`` names a bad value from the environment or ansible.cfg (the module checks the task's own
    values). A bad value falls back to the default.
    """
    environ = os.environ if environ is None else environ
    if config_file is None:
        config_file = getattr(C, "CONFIG_FILE", None)
    from_file = _config_file_values(config_file)
    problems = []

    def pick(option, env):
        if args.get(option) not in (None, ""):
            return args[option], None
        if environ.get(env, "").strip():
            return environ[env].strip(), env
        if option in from_file and from_file[option]:
            return from_file[option], f"[{CONFIG_SECTION}] {option} in {config_file}"
        return None, None

    mode, where = pick("progress", ENV_MODE)
    mode = DEFAULT_MODE if mode is None else str(mode).strip().lower()
    if mode not in MODES:
        if where:
            problems.append(f"{where}: {mode!r} is not one of {', '.join(MODES)}; using {DEFAULT_MODE}")
        mode = DEFAULT_MODE
    interval, where = pick("progress_interval", ENV_INTERVAL)
    try:
        interval = DEFAULT_INTERVAL if interval is None else float(interval)
    except (TypeError, ValueError):
        if where:
            problems.append(f"{where}: {interval!r} is not a number of seconds; using {DEFAULT_INTERVAL:g}")
        interval = DEFAULT_INTERVAL
    return mode, max(interval, MIN_INTERVAL), "; ".join(problems) or None


def split_poll_output(text, offset):
    """(new lines, new offset, job file head) from the poll command's output.

    Only complete lines count (the module may be writing one); ``offset`` is in bytes of the status file.
    """
    status, dummy, job = to_text(text).partition("\n" + _MARK + "\n")
    data = to_bytes(status)
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset, job
    lines = []
    for raw in data[:end].split(b"\n"):
        if not raw.strip():
            continue
        try:
            line = json.loads(to_text(raw))
        except ValueError:
            continue
        if isinstance(line, str):
            lines.append(line)
    return lines, offset + end + 1, job


def job_running(head):
    """Whether the job file's head still says started and not finished (async_wrapper's first write)."""
    return bool(_RUNNING.match(head or ""))


class ProgressAction(ActionBase):
    """``normal``, plus progress lines on the controller for the long operations of the module."""

    _supports_check_mode = True
    _supports_async = True

    def progress_applies(self, args):
        """Whether this task can transfer something at all (the module's own decision comes later)."""
        return True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        task_vars = task_vars or {}
        args = self._task.args
        mode, interval, problem = resolve_settings(args)
        if problem:
            display.warning(problem)
        if self._task.async_val or self._connection.has_native_async:
            # The user's async (or the connection's own): Ansible runs and polls the job; stay out of the way.
            return self._run_plain(result, task_vars, None)
        internal = {"mode": mode, "interval": interval}
        if (mode == "never" or self._task.check_mode or self._connection.always_pipeline_modules
                or not self.progress_applies(args)):
            return self._run_plain(result, task_vars, internal)
        if mode == "auto":
            # A plain run first, which hands over (PROBE_KEY, before changing anything) only when its plan pulls,
            # builds or loads: a task with nothing long to do costs what it costs without progress.
            plain = self._run_plain(dict(result), task_vars, dict(internal, probe=True))
            if not plain.get(PROBE_KEY):
                return plain
        return self._run_polled(result, task_vars, internal)

    # ------------------------------------------------------------------------------------------ plain

    def _run_plain(self, result, task_vars, internal):
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, self._execute_with(internal, task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _execute_with(self, internal, **kwargs):
        """_execute_module with ENV_JOB in the module's environment (added to the task's for this call only)."""
        if internal is None:
            return self._execute_module(**kwargs)
        if self._task.environment is None:
            self._task.environment = []
        environment = self._task.environment
        index = len(environment)
        environment.append({ENV_JOB: json.dumps(internal, sort_keys=True)})
        try:
            return self._execute_module(**kwargs)
        finally:
            del environment[index]

    # ------------------------------------------------------------------------------------------ polled

    def _run_polled(self, result, task_vars, internal):
        host = task_vars.get("inventory_hostname") or "?"
        if self._task.delegate_to:
            host = f"{host} -> {self._task.delegate_to}"
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        join = self._connection._shell.join_path
        status_file = join(async_dir, f"llmops-ollama-progress-{secrets.token_hex(8)}")
        internal = dict(internal, file=status_file)

        saved = self._task.async_val
        self._task.async_val = ASYNC_LIMIT
        try:
            started = self._execute_with(internal, task_vars=task_vars, wrap_async=True)
        finally:
            self._task.async_val = saved
        jid = started.get("ansible_job_id")
        if started.get("failed") or not jid:
            return merge_hash(result, started)
        job_file = started.get("results_file") or join(async_dir, jid)
        # async_wrapper writes the job where the host's process expands async_dir ($HOME), which is not always the
        # remote user's passwd home that _remote_expand_user gives (a CI job or a service with HOME set elsewhere:
        # there ansible-core's own async_status answers "could not find job"). Read the job where it really is.
        job_dir = posixpath.dirname(job_file) if started.get("results_file") else async_dir
        display.vvv(f"llmops.ollama: {host}: job {jid}, progress in {status_file}", host=host)

        offset = 0
        polls = 0
        missing = 0
        failing_since = None
        while True:
            time.sleep(min(FIRST_POLL * 2 ** polls, internal["interval"]))
            polls += 1
            try:
                lines, offset, head = self._poll(status_file, offset, job_file)
            except AnsibleConnectionFailure as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > GIVE_UP_AFTER:
                    raise
                display.warning(f"{host}: reading the progress failed ({to_text(exc)}); retrying (the job "
                                f"{jid} goes on on the host)")
                self._reset_connection()
                continue
            failing_since = None
            for line in lines:
                display.display(f"{host} | {line}")
            if job_running(head):
                missing = 0
                continue
            if not head.strip():
                missing += 1  # not written yet, or removed: async_status says which after a few polls
                if missing < 3:
                    continue
            break

        final = self._collect(task_vars, jid, job_dir, host)
        try:
            for line in self._poll(status_file, offset, job_file, remove=True)[0]:
                display.display(f"{host} | {line}")
        except AnsibleConnectionFailure as exc:
            display.warning(f"{host}: could not remove {job_file} and {status_file}: {to_text(exc)}")
        for key in _ASYNC_KEYS:
            final.pop(key, None)
        return merge_hash(result, final)

    def _poll(self, status_file, offset, job_file, remove=False):
        """One command: the status file from ``offset`` on, then the head of the job file (or, with ``remove``,
        the removal of both files)."""
        last = f"rm -f {shlex.quote(job_file)} {shlex.quote(status_file)}" if remove else \
            f"head -c 200 {shlex.quote(job_file)} 2>/dev/null"
        cmd = (f"tail -c +{offset + 1} {shlex.quote(status_file)} 2>/dev/null; "
               f"printf '\\n%s\\n' {shlex.quote(_MARK)}; {last}")
        res = self._low_level_execute_command(cmd, sudoable=True)
        return split_poll_output(res.get("stdout", ""), offset)

    def _collect(self, task_vars, jid, async_dir, host):
        """The job's result, parsed by async_status the way Ansible parses a module result."""
        failing_since = None
        while True:
            try:
                final = self._execute_module(module_name="ansible.legacy.async_status",
                                             module_args={"jid": jid, "_async_dir": async_dir},
                                             task_vars=task_vars)
                self._remove_tmp_path(self._connection._shell.tmpdir)
                return final
            except AnsibleConnectionFailure as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > GIVE_UP_AFTER:
                    raise
                display.warning(f"{host}: reading the result of job {jid} failed ({to_text(exc)}); retrying")
                self._reset_connection()
                time.sleep(2)

    def _reset_connection(self):
        try:
            self._connection.reset()
        except Exception:  # a connection without reset, or one that cannot reset now: the next try says more
            pass
