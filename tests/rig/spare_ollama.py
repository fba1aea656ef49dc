# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A second, fresh Ollama server for tests that need one nobody pulled into (e.g. an air-gapped import).

    spare_ollama.py start --bin OLLAMA --dir DIR   start `ollama serve` on a free loopback port with the empty
                                                   models dir DIR/models (wiped first) and HOME DIR/home; prints
                                                   {"url", "pid", "models_dir", "log"} as JSON once /api/version
                                                   answers
    spare_ollama.py stop --dir DIR                 stop it (the process group: runners included), wait for it

Stdlib only (Python 3.8+). Listens on 127.0.0.1 only. The pid file is DIR/ollama.pid.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(directory):
    pidfile = os.path.join(directory, "ollama.pid")
    try:
        with open(pidfile) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return 0
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    for dummy in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.unlink(pidfile)
    return pid


def start(binary, directory, timeout=60.0):
    stop(directory)
    models = os.path.join(directory, "models")
    home = os.path.join(directory, "home")
    shutil.rmtree(models, ignore_errors=True)
    os.makedirs(models)
    os.makedirs(home, exist_ok=True)
    port = free_port()
    env = {key: val for key, val in os.environ.items() if not key.startswith("OLLAMA_")}
    env.update({"OLLAMA_HOST": f"127.0.0.1:{port}", "OLLAMA_MODELS": models, "HOME": home})
    for key in ("NO_PROXY", "no_proxy"):  # as the rig's own server: loopback never through a proxy
        env[key] = "127.0.0.1,localhost" + ("," + env[key] if env.get(key) else "")
    log = os.path.join(directory, "ollama.log")
    with open(log, "ab") as out:
        proc = subprocess.Popen([binary, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    with open(os.path.join(directory, "ollama.pid"), "w") as handle:
        handle.write(str(proc.pid))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            sys.exit(f"spare ollama exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "/api/version", timeout=2) as answer:
                version = json.load(answer).get("version")
            break
        except OSError:
            if time.monotonic() > deadline:
                stop(directory)
                sys.exit(f"spare ollama did not answer {url}/api/version within {timeout:g}s; see {log}")
            time.sleep(0.2)
    return {"url": url, "pid": proc.pid, "models_dir": models, "log": log, "version": version}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("start")
    one.add_argument("--bin", required=True)
    one.add_argument("--dir", required=True)
    two = sub.add_parser("stop")
    two.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if args.command == "start":
        print(json.dumps(start(args.bin, os.path.abspath(args.dir))))
    else:
        print(json.dumps({"stopped": stop(args.dir)}))


if __name__ == "__main__":
    main()
