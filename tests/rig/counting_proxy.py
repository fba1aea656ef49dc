# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A counting, optionally delaying reverse proxy on loopback, for measuring what a client sends to a server.

Used by tools/bench.py in front of the rig's Ollama server and its registry front, so request counts are
counted, not assumed, and a registry can be made "far away" (a fixed delay before every request is forwarded).

    proxy = CountingProxy("registry", "http://127.0.0.1:40125")
    proxy.start()              # listens on 127.0.0.1:<free port>, proxy.url
    proxy.delay = 0.1          # seconds added before each request is forwarded
    proxy.reset()
    ...
    proxy.snapshot()           # {"total": 12, "by_kind": {"GET /v2/*/manifests/*": 10, ...}}

Responses are streamed through as they arrive (NDJSON pull progress stays live); keep-alive is kept, with the
upstream's Content-Length when it sends one and chunked encoding otherwise. Redirects are passed on as they are
(the rig's nginx front answers blob GETs with a 307 to the registry itself, so blob bytes never pass here).
Python 3.8+ standard library only.
"""

from __future__ import annotations

import http.client
import json
import http.server
import re
import socketserver
import threading
import time
import urllib.parse

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "proxy-connection"}

# Path shapes grouped so the counts read as operations, not as one line per model.
_KINDS = (
    (re.compile(r"^/v2/.+/manifests/[^/]+$"), "/v2/*/manifests/*"),
    (re.compile(r"^/v2/.+/blobs/[^/]+$"), "/v2/*/blobs/*"),
    (re.compile(r"^/api/blobs/[^/]+$"), "/api/blobs/*"),
)


def request_kind(method, path):
    """``"GET /v2/*/manifests/*"`` for a manifest GET of any model; other paths as they are, without the query."""
    path = urllib.parse.urlsplit(path).path
    for pattern, kind in _KINDS:
        if pattern.match(path):
            return f"{method} {kind}"
    return f"{method} {path}"


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy = None
    proxies = ()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def _forward(self):
        proxy = self.server.proxy
        proxy.count(self.command, self.path)
        body = self._body()
        if proxy.delay:
            time.sleep(proxy.delay)
        headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
        headers["Host"] = proxy.upstream_netloc
        if body is not None:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.timeout)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
        except OSError as exc:
            conn.close()
            message = f"counting proxy: upstream {proxy.upstream} failed: {exc}".encode()
            self.send_response(502)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        try:
            self._relay(resp)
        finally:
            conn.close()

    def _relay(self, resp):
        self.send_response_only(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        for key, value in resp.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        chunked = length is None and not no_body
        if length is not None:
            self.send_header("Content-Length", length)
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            return
        while True:
            data = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not data:
                break
            if chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                self.wfile.write(data)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _forward


class CountingProxy:
    """One listener on 127.0.0.1 that forwards to ``upstream`` (``http://host:port``) and counts each request."""

    def __init__(self, name, upstream, port=0, timeout=600.0):
        self.name = name
        self.upstream = upstream.rstrip("/")
        parts = urllib.parse.urlsplit(self.upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{name}: upstream must be http://host:port, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_netloc = parts.netloc
        self.timeout = timeout
        self.delay = 0.0
        self._lock = threading.Lock()
        self._counts = {}
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.proxy = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.netloc = f"127.0.0.1:{self.port}"
        self._thread = None

    def count(self, method, path):
        kind = request_kind(method, path)
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1

    def reset(self):
        with self._lock:
            self._counts = {}

    def snapshot(self):
        with self._lock:
            counts = dict(self._counts)
        return {"total": sum(counts.values()), "by_kind": counts}

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"proxy-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _answer(self, payload):
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        proxies = self.server.proxies
        if self.path == "/reset":
            for proxy in proxies:
                proxy.reset()
            self._answer({"reset": [proxy.name for proxy in proxies]})
        elif self.path == "/counts":
            self._answer({proxy.name: proxy.snapshot() for proxy in proxies})
        elif self.path.startswith("/delay/"):
            # /delay/<name prefix>/<milliseconds>: every proxy whose name starts with the prefix waits that long.
            dummy, dummy2, prefix, millis = self.path.split("/", 3)
            changed = [proxy.name for proxy in proxies if proxy.name.startswith(prefix)]
            for proxy in proxies:
                if proxy.name in changed:
                    proxy.delay = float(millis) / 1000.0
            self._answer({"delay_ms": float(millis), "proxies": changed})
        else:
            self.send_error(404)


class ControlServer:
    """Control of the proxies over HTTP on 127.0.0.1, for a callback plugin or a playbook task.

    ``GET /counts``: every proxy's counts by name; ``GET /reset``: zero them; ``GET /delay/<prefix>/<ms>``: the
    delay of every proxy whose name starts with ``<prefix>``.
    """

    def __init__(self, proxies):
        self._server = _Server(("127.0.0.1", 0), _ControlHandler)
        self._server.proxies = list(proxies)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, proxy):
        self._server.proxies.append(proxy)

    def start(self):
        threading.Thread(target=self._server.serve_forever, name="proxy-control", daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
