"""Extra Ollama servers next to the rig, for fleet tests (the fleet report): one ``ollama serve`` per host.

    python tests/rig/fleet.py up --state DIR --host b=0.34.4 --host c=0.24.0   # prints the fleet as JSON
    python tests/rig/fleet.py down --state DIR                                  # stops every server it started

Each server runs a binary the rig built (``<cache>/go-bin-<version>/ollama``, see docs/testing-rig.md) on
``127.0.0.1:<free port>`` with its own empty ``OLLAMA_MODELS`` and ``HOME`` under ``DIR/<host>/``; it pulls from
the rig's registry like the rig's own server. ``up`` writes ``DIR/fleet.json`` (``{"hosts": {name: {url, version,
pid, models_dir}}}``) and stops the servers it started if any of them does not answer. ``down`` stops each
server's process group by the pid recorded there (never by name). Python 3.11 standard library only; kept apart
from rig.py on purpose (it does not depend on rig.py's internals).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CACHE = Path(os.environ.get("LLMOPS_RIG_CACHE") or "/var/cache/llmops-rig")


def log(msg: str) -> None:
    print(f"[fleet] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(version: str) -> Path:
    path = CACHE / f"go-bin-{version}" / "ollama"
    if not path.is_file():
        sys.exit(f"fleet: {path} does not exist: build it first (tests/rig/rig.py --ollama-version {version} build)")
    return path


def api_version(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(f"{url}/api/version", timeout=timeout) as answer:  # noqa: S310 (loopback)
        return json.load(answer)["version"]


def start(name: str, version: str, state: Path) -> dict:
    home = state / name
    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, OLLAMA_HOST=f"127.0.0.1:{port}", OLLAMA_MODELS=str(models), HOME=str(home))
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    logfile = home / "ollama.log"
    with open(logfile, "ab") as out:
        proc = subprocess.Popen([str(binary(version)), "serve"], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    return {"url": url, "version": version, "pid": proc.pid, "models_dir": str(models), "log": str(logfile),
            "_proc": proc}


def wait_up(host: dict, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if host["_proc"].poll() is not None:
            raise RuntimeError(f"exited with {host['_proc'].returncode}; see {host['log']}")
        try:
            return api_version(host["url"])
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"no answer from {host['url']} in {timeout:g}s: {last}")


def stop_pid(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the process group pid leads (ollama serve and its runners), SIGKILL after ``grace``."""
    try:
        if os.getpgid(pid) != pid:
            return  # not the session leader we started: the pid was reused
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cmd_up(args) -> None:
    state = Path(args.state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    cmd_down(args, quiet=True)  # a previous fleet in this state dir
    hosts = {}
    t0 = time.monotonic()
    try:
        for spec in args.host:
            name, _sep, version = spec.partition("=")
            hosts[name] = start(name, version or "0.34.4", state)
        for name, host in hosts.items():
            reported = wait_up(host)
            log(f"{name}: ollama {reported} at {host['url']} (pid {host['pid']})")
    except (RuntimeError, SystemExit) as exc:
        for host in hosts.values():
            stop_pid(host["pid"])
        sys.exit(f"fleet: up failed: {exc}")
    record = {"hosts": {n: {k: v for k, v in h.items() if not k.startswith("_")} for n, h in hosts.items()}}
    (state / "fleet.json").write_text(json.dumps(record, indent=2) + "\n")
    log(f"up: {len(hosts)} servers in {time.monotonic() - t0:.1f}s")
    print(json.dumps(record))


def cmd_down(args, quiet: bool = False) -> None:
    path = Path(args.state).resolve() / "fleet.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        if not quiet:
            log("down: no fleet.json, nothing to stop")
        return
    for name, host in record.get("hosts", {}).items():
        stop_pid(int(host["pid"]))
        if not quiet:
            log(f"{name}: stopped pid {host['pid']}")
    path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the servers and print the fleet as JSON")
    up.add_argument("--state", required=True, help="directory for models, logs and fleet.json")
    up.add_argument("--host", action="append", required=True, metavar="NAME=VERSION",
                    help="one server: its inventory name and the Ollama version to run (repeatable)")
    down = sub.add_parser("down", help="stop the servers recorded in STATE/fleet.json")
    down.add_argument("--state", required=True)
    args = parser.parse_args()
    cmd_up(args) if args.cmd == "up" else cmd_down(args)


if __name__ == "__main__":
    main()
