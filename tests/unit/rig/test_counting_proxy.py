# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The counting proxy of `make bench` (tests/rig/counting_proxy.py): it relays exactly and counts every request."""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.llmops.ollama.tests.rig.counting_proxy import ControlServer, CountingProxy, request_kind


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/v2/"):
            self._send(307, b"", "text/plain") if "/blobs/" in self.path else self._send(200, b'{"layers": []}')
        else:
            self._send(200, json.dumps({"models": [], "host": self.headers.get("Host")}).encode())

    def do_HEAD(self):  # noqa: N802
        self._send(200 if self.path.endswith("a" * 64) else 404, b"")

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        # A stream without Content-Length (chunked), the way Ollama sends pull progress.
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in ({"status": "pulling " + body["model"]}, {"status": "success"}):
            data = (json.dumps(line) + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def upstream():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def proxy(upstream):
    prx = CountingProxy("ollama", upstream).start()
    yield prx
    prx.stop()


def test_request_kind_groups_models_and_drops_the_query():
    assert request_kind("GET", "/v2/library/gemma3/manifests/270m") == "GET /v2/*/manifests/*"
    assert request_kind("HEAD", "/v2/library/gemma3/blobs/sha256:ab") == "HEAD /v2/*/blobs/*"
    assert request_kind("HEAD", "/api/blobs/sha256:ab") == "HEAD /api/blobs/*"
    assert request_kind("GET", "/api/tags?x=1") == "GET /api/tags"


def test_relays_and_counts_on_one_keep_alive_connection(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/api/tags")
    resp = conn.getresponse()
    tags = json.loads(resp.read())
    assert resp.status == 200 and tags["models"] == []
    assert tags["host"] == proxy.upstream_netloc  # the upstream sees its own Host
    conn.request("POST", "/api/pull", body=json.dumps({"model": "m:1"}), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    lines = [json.loads(line) for line in resp.read().splitlines()]
    assert lines == [{"status": "pulling m:1"}, {"status": "success"}]
    conn.request("HEAD", "/api/blobs/sha256:" + "a" * 64)
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200
    conn.request("HEAD", "/api/blobs/sha256:" + "b" * 64)
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 404
    conn.request("GET", "/v2/library/m/blobs/sha256:cc")
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 307  # redirects are passed on, not followed
    conn.close()
    assert proxy.snapshot() == {"total": 5, "by_kind": {"GET /api/tags": 1, "POST /api/pull": 1,
                                                        "HEAD /api/blobs/*": 2, "GET /v2/*/blobs/*": 1}}
    proxy.reset()
    assert proxy.snapshot() == {"total": 0, "by_kind": {}}


def test_delay_applies_to_every_request(proxy):
    proxy.delay = 0.3
    started = time.monotonic()
    with urllib.request.urlopen(proxy.url + "/api/tags", timeout=10) as resp:
        resp.read()
    assert time.monotonic() - started >= 0.3


def test_an_unreachable_upstream_is_a_502_that_names_it():
    prx = CountingProxy("registry", "http://127.0.0.1:9").start()
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(prx.url + "/v2/", timeout=10)
        assert caught.value.code == 502
        assert "http://127.0.0.1:9" in caught.value.read().decode()
        assert prx.snapshot()["total"] == 1
    finally:
        prx.stop()


def test_control_server_counts_resets_and_sets_delays(proxy, upstream):
    registry = CountingProxy("registry", upstream).start()
    control = ControlServer([proxy]).start()
    control.add(registry)
    try:
        urllib.request.urlopen(proxy.url + "/api/tags", timeout=10).read()
        urllib.request.urlopen(registry.url + "/v2/library/m/manifests/t", timeout=10).read()

        def get(path):
            with urllib.request.urlopen(control.url + path, timeout=10) as resp:
                return json.loads(resp.read())

        counts = get("/counts")
        assert counts["ollama"]["by_kind"] == {"GET /api/tags": 1}
        assert counts["registry"]["by_kind"] == {"GET /v2/*/manifests/*": 1}
        assert get("/delay/registry/100") == {"delay_ms": 100.0, "proxies": ["registry"]}
        assert registry.delay == pytest.approx(0.1) and proxy.delay == 0
        get("/reset")
        assert get("/counts")["registry"]["total"] == 0
    finally:
        control.stop()
        registry.stop()
