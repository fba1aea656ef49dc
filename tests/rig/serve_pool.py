# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Extra Ollama servers on loopback that serve the rig's models, for fleet-sized runs (tools/bench.py).
(tests/rig/fleet.py starts servers the other way: each with its own empty models dir and version, for the fleet
report tests.)

    fleet = Fleet(ollama_bin, models_dir, state_dir)
    urls = fleet.start(7)      # seven more `ollama serve` on free 127.0.0.1 ports
    ...
    fleet.stop()               # each one's process group, SIGTERM then SIGKILL

Every server reads the same models directory (the rig's test server's OLLAMA_MODELS) with OLLAMA_NOPRUNE=1, so
it starts without touching blobs; use them for reading (``/api/tags``, pulls of models already there), not for
pulls or deletes that write to that directory while another server reads it. Each has its own HOME (Ollama
creates its key there) and log file under ``state_dir``. Python 3.8+ standard library only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Fleet:
    def __init__(self, ollama_bin, models_dir, state_dir):
        self.ollama_bin = str(ollama_bin)
        self.models_dir = str(models_dir)
        self.state_dir = str(state_dir)
        self.procs = []
        self.urls = []

    def start(self, count, timeout=120.0):
        started = []
        for dummy in range(count):
            index = len(self.procs) + 1
            port = _free_port()
            home = os.path.join(self.state_dir, f"fleet-{index}")
            os.makedirs(home, exist_ok=True)
            env = dict(os.environ, HOME=home, OLLAMA_HOST=f"127.0.0.1:{port}", OLLAMA_MODELS=self.models_dir,
                       OLLAMA_NOPRUNE="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
            with open(os.path.join(home, "ollama.log"), "ab") as log:
                proc = subprocess.Popen([self.ollama_bin, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            self.procs.append(proc)
            started.append((proc, f"http://127.0.0.1:{port}", home))
        deadline = time.monotonic() + timeout
        for proc, url, home in started:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"fleet: ollama serve for {url} exited with {proc.returncode}; see {home}/ollama.log")
                try:
                    with urllib.request.urlopen(url + "/api/version", timeout=5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"fleet: {url} did not answer /api/version within {timeout:g}s") from None
                    time.sleep(0.2)
            self.urls.append(url)
        return [url for dummy, url, dummy2 in started]

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        self.procs, self.urls = [], []
