# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throttled second front for the rig registry, so a real pull lasts long enough to watch its progress.

Model names under ``127.0.0.1:<throttle port>/...`` are served by the same registry as the nginx front, but
blob data comes at most at ``--rate`` bytes per second **in all** (one budget shared by every connection, so a
pull that Ollama splits into parallel range requests is not faster, and two servers pulling at once share it).
As with the nginx front, a blob ``GET`` is answered ``307`` to ``http://localhost:<throttle port>...`` (Ollama
needs a redirect to another host name, see docs/testing-rig.md); the request that arrives there is streamed from
the registry through the rate limit. Manifests, ``HEAD`` and everything else are proxied at full speed.

Used by rig.py (``ensure``/``stop``); ``throttle.py serve`` is the server process. Python stdlib only.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from release_mirror import answers, daemon_pid, stop_daemon  # tests/rig/release_mirror.py: the rig daemons' helpers

CONFIG_KEYS = ("ollama_registry_throttled", "ollama_chat_model_throttled", "ollama_throttle_rate")
DEFAULT_RATE = 16_000_000  # bytes/s: the 253 MB gemma3:270m in ~16 s alone, ~32 s for two servers at once
BLOB = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
CHUNK = 64 * 1024


class Bucket:
    """One rate for all connections: each chunk reserves its slot of time, the sender sleeps until it."""

    def __init__(self, rate: float):
        self.rate = float(rate)
        self.lock = threading.Lock()
        self.next = time.monotonic()

    def take(self, size: int) -> None:
        with self.lock:
            now = time.monotonic()
            start = max(self.next, now)
            self.next = start + size / self.rate
        if start > now:
            time.sleep(start - now)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = ("127.0.0.1", 0)
    bucket: Bucket
    port = 0

    def _relay(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        if self.command == "GET" and BLOB.match(self.path.split("?")[0]) and host != "localhost":
            self.send_response(307)
            self.send_header("Location", f"http://localhost:{self.port}{self.path}")
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP:
                    self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if self.command == "HEAD":
                return
            throttled = host == "localhost"
            while True:
                chunk = resp.read(CHUNK)
                if not chunk:
                    break
                if throttled:
                    self.bucket.take(len(chunk))
                self.wfile.write(chunk)
        except (OSError, http.client.HTTPException) as exc:
            self.log_message("upstream error %s", exc)
            self.close_connection = True
        finally:
            conn.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _relay  # noqa: N815 (http.server API)

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        sys.stderr.write(f"{time.strftime('%F %T')} {format % args}\n")
        sys.stderr.flush()


def serve(port: int, upstream: int, rate: float) -> None:
    Handler.upstream = ("127.0.0.1", upstream)
    Handler.bucket = Bucket(rate)
    Handler.port = port
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler) as httpd:
        httpd.daemon_threads = True
        httpd.serve_forever()


# --------------------------------------------------------------------------- rig.py hooks

def ensure(state: Path, registry_port: int, free_port) -> dict:
    """(Re)start the throttled front for the registry on ``registry_port``; return the config keys."""
    rate = float(os.environ.get("LLMOPS_RIG_THROTTLE_RATE") or DEFAULT_RATE)
    info_file = state / "throttle.json"
    logfile = state / "throttle.log"
    try:
        info = json.loads(info_file.read_text())
    except (OSError, ValueError):
        info = {}
    fresh = info.get("upstream") == registry_port and info.get("rate") == rate
    if not (fresh and daemon_pid(state, "throttle", "throttle.py") and info.get("port")
            and answers(f"http://127.0.0.1:{info['port']}/v2/")):
        stop(state)
        port = free_port()
        with open(logfile, "ab") as lf:
            proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(port),
                                     "--upstream", str(registry_port), "--rate", str(rate)],
                                    stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, start_new_session=True,
                                    close_fds=True)
        (state / "throttle.pid").write_text(f"{proc.pid}\n")
        info = {"port": port, "upstream": registry_port, "rate": rate}
        for _attempt in range(50):
            if answers(f"http://127.0.0.1:{port}/v2/"):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"throttled registry front did not answer on port {port} (log {logfile})")
        info_file.write_text(json.dumps(info) + "\n")
    front = f"127.0.0.1:{info['port']}"
    return {"ollama_registry_throttled": front, "ollama_chat_model_throttled": f"{front}/library/gemma3:270m",
            "ollama_throttle_rate": int(rate)}


def stop(state: Path) -> list[str]:
    return stop_daemon(state, "throttle", "throttle.py")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", required=True, type=int)
    s.add_argument("--upstream", required=True, type=int, help="the registry's port on 127.0.0.1")
    s.add_argument("--rate", type=float, default=DEFAULT_RATE, help="bytes per second, all connections together")
    args = p.parse_args(argv)
    serve(args.port, args.upstream, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
