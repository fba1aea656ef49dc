# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test helpers: a scripted in-process HTTP server for fault injection, and a runner for module main().

The scripted server is NOT an Ollama emulator: each test scripts exactly the answers it needs (status, headers,
body, NDJSON lines, pauses, dropped connections) and then asserts on what the client or module did with them and
on which requests were sent. Behaviour of the real server is tested in the integration tier against a real Ollama.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.testing import patch_module_args


class Reply:
    """One scripted answer.

    ``body``: dict/list (sent as JSON), str/bytes (sent as is) or None (empty body).
    ``lines``: a list of dicts sent as an NDJSON stream (chunked), each followed by ``line_delay`` seconds;
    an item ``Reply.DROP`` closes the connection there, an item ``("sleep", seconds)`` pauses.

    ``raw``: a list written to the socket as is, for transport faults below HTTP: bytes are sent at once,
    ``("sleep", seconds)`` pauses, ``("drip", data, interval)`` sends ``data`` one byte every ``interval``
    seconds; the connection is closed at the end. Inside ``lines``, a ``("drip", data, interval)`` item sends
    ``data`` one byte per chunk, every ``interval`` seconds.
    """

    DROP = object()

    def __init__(self, status=200, body=None, lines=None, headers=None, line_delay=0.0, delay=0.0, raw=None):
        self.status = status
        self.body = body
        self.lines = lines
        self.headers = headers or {}
        self.line_delay = line_delay
        self.delay = delay
        self.raw = raw


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.raw_body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.method} {self.path} {self.json!r}>"


class ScriptedServer:
    """Answers requests from per-route queues of Reply objects; records every request it saw.

    ``server.on("GET", "/api/tags", Reply(...), Reply(...))`` queues answers; the last one repeats.
    A request with no scripted route gets 599 and fails the test through ``unexpected``.
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.unexpected = []
        self._lock = threading.Lock()
        handler = self._make_handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # serve_forever polls for shutdown every poll_interval (0.5 s by default): that wait ended every test.
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def on(self, method, path, *replies):
        self.routes[(method, path)] = list(replies)
        return self

    def calls(self, method=None, path=None):
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next(self, method, path):
        with self._lock:
            queue = self.routes.get((method, path))
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _make_handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, dict(self.headers), body)
                server.requests.append(req)
                reply = server._next(self.command, self.path)
                if reply is None:
                    server.unexpected.append(req)
                    reply = Reply(599, {"error": f"unscripted request {self.command} {self.path}"})
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    self._raw(reply)
                elif reply.lines is not None:
                    self._stream(reply)
                else:
                    self._plain(reply)

            def _raw(self, reply):
                self.close_connection = True
                try:
                    for item in reply.raw:
                        if isinstance(item, tuple) and item[0] == "sleep":
                            time.sleep(item[1])
                        elif isinstance(item, tuple) and item[0] == "drip":
                            for byte in item[1]:
                                self.wfile.write(bytes([byte]))
                                self.wfile.flush()
                                time.sleep(item[2])
                        else:
                            self.wfile.write(item)
                            self.wfile.flush()
                except OSError:  # the client gave up: that is what these tests want
                    return

            def _plain(self, reply):
                body = reply.body
                ctype = "application/json; charset=utf-8"
                if body is None:
                    data = b""
                elif isinstance(body, (dict, list)):
                    data = json.dumps(body).encode()
                else:
                    data = body.encode() if isinstance(body, str) else body
                    ctype = "text/plain; charset=utf-8"
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for key, val in reply.headers.items():
                    self.send_header(key, val)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the client stopped reading (a size limit under test)
                    self.close_connection = True

            def _stream(self, reply):
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for item in reply.lines:
                    if item is Reply.DROP:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if isinstance(item, tuple) and item[0] == "sleep":
                        time.sleep(item[1])
                        continue
                    if isinstance(item, tuple) and item[0] == "drip":
                        try:
                            for byte in item[1]:
                                self.wfile.write(b"1\r\n%s\r\n" % bytes([byte]))
                                self.wfile.flush()
                                time.sleep(item[2])
                        except OSError:
                            return
                        continue
                    data = (item if isinstance(item, str) else json.dumps(item)).encode() + b"\n"
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    except OSError:
                        return
                    if reply.line_delay:
                        time.sleep(reply.line_delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _handle

        return Handler


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()
    assert not srv.unexpected, f"requests nobody scripted: {srv.unexpected}"


class ModuleResult(dict):
    """The dict a module passed to exit_json/fail_json, with ``failed`` set for fail_json."""


def run_module(module, args, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args`` and return its result (never raises for exit/fail)."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    captured = {}

    def exit_json(self, **kwargs):
        captured.update(kwargs)
        captured.setdefault("failed", False)
        raise SystemExit(0)

    def fail_json(self, msg, **kwargs):
        # As ansible-core before 2.19 does at -vvv: a failure reported while an exception is being handled
        # carries its traceback. Expected failures (bad values, server answers) must not.
        if "exception" not in kwargs and sys.exc_info()[2] is not None:
            kwargs["exception"] = "".join(traceback.format_exception(*sys.exc_info()))
        captured.update(kwargs)
        captured["msg"] = msg
        captured["failed"] = True
        raise SystemExit(1)

    warnings = []

    def warn(self, warning):
        warnings.append(warning)

    from ansible.module_utils import basic

    with patch_module_args(args):
        mp = pytest.MonkeyPatch()
        try:
            mp.setattr(basic.AnsibleModule, "exit_json", exit_json)
            mp.setattr(basic.AnsibleModule, "fail_json", fail_json)
            mp.setattr(basic.AnsibleModule, "warn", warn)
            with pytest.raises(SystemExit):
                module.main()
        finally:
            mp.undo()
    # The warnings of this run only (Ansible's global warning list outlives a test).
    captured["warnings"] = warnings
    return ModuleResult(captured)
