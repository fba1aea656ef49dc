# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Progress of the long operations (pulls, creates, loads), as one line per interval.

A module that pulls, creates or loads reports what it does to a ``Progress``; a ticker thread turns that into
one line per interval (``pulling qwen2.5:72b  41% 19.2/47.4 GB  112 MB/s  ETA 4m12s``), appended to

- the status file the controller's poller reads (the action plugins of ollama_model and ollama_loaded pass its
  path, with the mode and the interval they resolved, in the environment variable ``ENV_JOB``; they print each
  new line as ``<host> | <line>``), and
- ``progress_log``, a file on the host (each line with a UTC timestamp), for ``tail -f``.

With ``auto`` a line is written while a transfer actually happens (a pull that downloads bytes, a create or a
load that lasts longer than one interval), and a last line when that operation ends; with ``always`` one line
per interval whatever the module does. Nothing here changes what the module does or returns.
"""

from __future__ import annotations

import json
import os
import threading
import time

from ansible_collections.llmops.ollama.plugins.module_utils._facts import format_bytes

DEFAULT_INTERVAL = 10.0
MIN_INTERVAL = 0.5
MODES = ("auto", "always", "never")

# Set by the action plugins for the module's process only: {"file": path, "mode": "auto", "interval": 10}
# (an environment variable, not an option, so nothing of it shows in the task's invocation or result).
ENV_JOB = "LLMOPS_OLLAMA_PROGRESS_JOB"
# With progress auto the action plugin first runs the module plainly with "probe" in ENV_JOB: a run whose plan
# transfers or loads nothing finishes as usual (as fast as without progress); one whose plan does returns only
# {PROBE_KEY: True} before it changes anything, and the action plugin runs it again in the background, polled.
PROBE_KEY = "llmops_ollama_progress_probe"

# The options the action plugins read too; documented in plugins/doc_fragments/_progress.py.
PROGRESS_ARGSPEC = dict(
    progress=dict(type="str", choices=list(MODES)),
    progress_interval=dict(type="float"),
    progress_log=dict(type="path"),
)


def job_settings(environ=None):
    """What the action plugin passed in ENV_JOB ({} when run without it, or when it cannot be read)."""
    environ = os.environ if environ is None else environ
    try:
        settings = json.loads(environ.get(ENV_JOB) or "{}")
    except ValueError:
        return {}
    return settings if isinstance(settings, dict) else {}


def format_duration(seconds):
    """``4m12s``, ``1h02m``, ``9s``."""
    seconds = int(max(0, round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_pair(done, total):
    """``19.2/47.4 GB``: both numbers in the unit of the total."""
    text = format_bytes(total)
    number, unit = text.split(" ")
    scale = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
    value = done / scale
    return f"{value:.0f}/{number} {unit}" if unit == "B" or "." not in number else f"{value:.1f}/{number} {unit}"


class Operation:
    """One pull, create or load: what the lines say about it. Updated by the module, read by the ticker."""

    def __init__(self, verb, done_verb, model, clock, planned=None, size=None, transfer=False):
        self.verb = verb
        self.done_verb = done_verb
        self.model = model
        self.clock = clock
        self.started = clock()
        self.transfer = transfer      # a pull: only bytes actually downloaded make it worth a line in auto
        self.size = size              # a load: the model's size, for the line
        self.status = None
        self.attempt = 1
        self.attempts = None          # retries + 1, when known
        self.retry_at = None          # clock() when the next attempt starts
        self.retry_error = None
        self.layers = {}              # digest -> [total, completed, first completed seen, cached]
        self.planned = dict(planned or {})   # digest -> [size, present] from the registry's manifest
        self.order = []
        self.create_total = None
        self.create_completed = None
        self.lines = 0
        self.last_tick = (self.started, 0)

    # ------------------------------------------------------------------------------ updates (module thread)

    def see(self, item, attempt=1):
        """One line of Ollama's pull or create stream."""
        self.attempt = attempt
        self.retry_at = None
        status = item.get("status")
        if status:
            self.status = str(status)
        digest, total, completed = item.get("digest"), item.get("total"), item.get("completed") or 0
        if not isinstance(total, int) or not isinstance(completed, int):
            return
        if not digest:
            self.create_total, self.create_completed = total, completed
            return
        layer = self.layers.get(digest)
        if layer is None:
            # Ollama pulls the layers one after the other and sends no last line for a finished one.
            for other in self.order:
                self.layers[other][1] = self.layers[other][0]
            cached = self.planned.get(digest, [None, False])[1] or completed == total
            layer = self.layers[digest] = [total, completed, completed, cached]
            self.order.append(digest)
        layer[0], layer[1] = total, max(layer[1], completed)

    def retrying(self, attempt, delay, error):
        self.attempt = attempt
        self.retry_at = self.clock() + delay
        self.retry_error = str(error).rsplit(": ", maxsplit=1)[-1][:80]

    # ------------------------------------------------------------------------------ figures (ticker thread)

    def figures(self):
        """(completed, total or None, downloaded) in bytes over the whole model."""
        downloaded = sum(c - first for t, c, first, cached in self.layers.values() if not cached)
        if self.planned:
            total = sum(size for size, present in self.planned.values())
            completed = 0
            for digest, (size, present) in self.planned.items():
                layer = self.layers.get(digest)
                completed += size if present else min(size, layer[1]) if layer else 0
            return completed, total, downloaded
        if not self.layers:
            return 0, None, 0
        return sum(c for t, c, f, k in self.layers.values()), sum(t for t, c, f, k in self.layers.values()), downloaded

    def worth_showing(self):
        """auto: a pull that downloads, a retry, a create or a load (these only last beyond an interval when long)."""
        if not self.transfer:
            return True
        return self.figures()[2] > 0 or self.attempt > 1

    def line(self, now):
        attempt = f"  (attempt {self.attempt}" + (f"/{self.attempts})" if self.attempts else ")") \
            if self.attempt > 1 else ""
        if self.size is not None or not (self.transfer or self.create_total or self.status):
            size = f" ({format_bytes(self.size)})" if self.size else ""
            return f"{self.verb} {self.model}{size}  {format_duration(now - self.started)}"
        if not self.transfer:
            text = f"{self.verb} {self.model}  {self.status or ''}".rstrip()
            if self.create_total:
                percent = 100 * (self.create_completed or 0) // self.create_total
                text += f"  {percent}% {format_pair(self.create_completed or 0, self.create_total)}"
            return text
        completed, total, downloaded = self.figures()
        then, before = self.last_tick
        self.last_tick = (now, downloaded)
        rate = (downloaded - before) / (now - then) if now > then else 0.0
        parts = [f"{self.verb} {self.model}"]
        if total:
            parts.append(f"{100 * completed // total}% {format_pair(completed, total)}")
        else:
            parts.append(format_bytes(completed))
        if self.retry_at is not None:
            parts.append(f"retrying in {format_duration(self.retry_at - now)}: {self.retry_error}")
        else:
            parts.append(f"{format_bytes(rate)}/s")
            if total and rate > 0:
                parts.append(f"ETA {format_duration((total - completed) / rate)}")
        return "  ".join(parts) + attempt

    def done_line(self, now, failed=False):
        if failed:
            return f"{self.verb} {self.model} failed after {format_duration(now - self.started)}"
        completed, total, downloaded = self.figures()
        what = f"  {format_bytes(total or completed)}" if self.transfer else ""
        return f"{self.done_verb} {self.model}{what} in {format_duration(now - self.started)}"


class Progress:
    """Where a module's progress lines go, and the ticker that writes one per interval. Inert when unused."""

    def __init__(self, params, enabled=True, environ=None, clock=time.monotonic, wall=time.time,
                 start_thread=True):
        internal = job_settings(environ)
        self.status_file = internal.get("file")
        self.probe = bool(internal.get("probe")) and enabled
        self.log_file = params.get("progress_log")
        mode = internal.get("mode") or params.get("progress") or "auto"
        self.always = mode == "always"
        interval = internal.get("interval") or params.get("progress_interval") or DEFAULT_INTERVAL
        self.interval = max(float(interval), MIN_INTERVAL)
        self.clock = clock
        self.wall = wall
        self.start_thread = start_thread
        # Check mode transfers nothing, so it writes nothing (not even an empty progress_log).
        self.enabled = enabled and bool(self.status_file or self.log_file)
        self.started = clock()
        self.op = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if self.enabled and self.always:
            with self._lock:
                self._start()

    def hand_over(self, long_work):
        """True when this is the action plugin's probe run (progress auto) and the plan has long work (a pull, a
        build, a load): the module then returns ``{PROBE_KEY: True}`` before acting, to be run again polled."""
        return self.probe and bool(long_work)

    def check(self):
        """An error message when ``progress_log`` cannot be appended to (before anything is done), else None."""
        if not (self.enabled and self.log_file):
            return None
        try:
            with open(self.log_file, "a"):
                pass
        except OSError as exc:
            return f"progress_log: cannot append to {self.log_file}: {exc.strerror or exc}"
        return None

    # ------------------------------------------------------------------------------ operations

    def pull(self, model, planned=None, attempts=None):
        op = Operation("pulling", "pulled", model, self.clock, planned=planned, transfer=True)
        op.attempts = attempts
        return self._begin(op)

    def create(self, model):
        return self._begin(Operation("creating", "created", model, self.clock))

    def load(self, model, size=None, verb="loading", done_verb="loaded"):
        return self._begin(Operation(verb, done_verb, model, self.clock, size=size))

    def _begin(self, op):
        if self.enabled:
            with self._lock:
                self.op = op
                self._start()
        return _Scope(self, op)

    def end(self, op, failed=False):
        with self._lock:
            if self.op is op:
                self.op = None
            if op.lines or self.always:
                self._write(op.done_line(self.clock(), failed))

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)

    # ------------------------------------------------------------------------------ ticker

    def _start(self):
        """Start the ticker unless it runs (called with the lock held)."""
        if self._thread is None and self.start_thread:
            self._thread = threading.Thread(target=self._run, name="llmops-progress", daemon=True)
            self._thread.start()

    def _run(self):
        while not self._stop.wait(self.interval):
            with self._lock:
                if self.op is None and not self.always:
                    self._thread = None  # the next operation starts a new one
                    return
            self.tick()

    def tick(self):
        """Write the line for this interval, if there is one to write."""
        with self._lock:
            now = self.clock()
            op = self.op
            if op is not None and (self.always or op.worth_showing()):
                op.lines += 1
                self._write(op.line(now))
            elif op is None and self.always:
                self._write(f"working  {format_duration(now - self.started)}")

    def _write(self, line):
        if not self.enabled:
            return
        if self.status_file:
            try:
                directory = os.path.dirname(self.status_file)
                if directory and not os.path.isdir(directory):
                    os.makedirs(directory, mode=0o700, exist_ok=True)
                with open(self.status_file, "a") as handle:
                    handle.write(json.dumps(line) + "\n")
            except OSError:
                pass  # progress is best effort: the task's result never depends on it
        if self.log_file:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.wall()))
            try:
                with open(self.log_file, "a") as handle:
                    handle.write(f"{stamp} {line}\n")
            except OSError:
                pass


class _Scope:
    """``with progress.pull(...) as op:``: the operation, ended (with a last line when one was shown) on exit."""

    def __init__(self, progress, op):
        self.progress = progress
        self.op = op

    def __enter__(self):
        return self.op

    def __exit__(self, exc_type, exc, tb):
        if self.progress.enabled:
            self.progress.end(self.op, failed=exc_type is not None)
        return False
