# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The transport, against a scripted in-process HTTP server (fault injection, not an Ollama emulator)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._client import (
    OllamaClient,
    OllamaConnectionError,
    OllamaError,
    OllamaStallError,
    normalize_url,
)
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply


@pytest.mark.parametrize("value,url", [
    (None, "http://127.0.0.1:11434"),
    ("", "http://127.0.0.1:11434"),
    ("0.0.0.0", "http://0.0.0.0:11434"),
    ("gpu01", "http://gpu01:11434"),
    ("gpu01:8080", "http://gpu01:8080"),
    (":8080", "http://127.0.0.1:8080"),
    ("http://gpu01", "http://gpu01:80"),
    ("https://gpu01", "https://gpu01:443"),
    ("https://gpu01:8443/ollama/", "https://gpu01:8443/ollama"),
    ("[::1]:11434", "http://[::1]:11434"),
    ("::1", "http://[::1]:11434"),
    ("ollama.com", "https://ollama.com:443"),
    ('"127.0.0.1:9999"', "http://127.0.0.1:9999"),
    ("  127.0.0.1  ", "http://127.0.0.1:11434"),
])
def test_normalize_url_reads_ollama_host_like_the_cli(value, url):
    assert normalize_url(value) == url


@pytest.mark.parametrize("value", ["ftp://gpu01", "gpu01:99999", "gpu01:abc"])
def test_normalize_url_refuses_bad_values(value):
    with pytest.raises(ValueError, match=repr(value).replace("[", r"\[")):
        normalize_url(value)


def client_for(server, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return OllamaClient(server.url, **kwargs)


def test_json_request_with_auth_and_headers(server):
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    client = client_for(server, api_key="s3cret", headers={"X-Team": "ml"})
    assert client.version() == "0.24.0"
    sent = server.calls("GET", "/api/version")[0].headers
    assert sent["Authorization"] == "Bearer s3cret"
    assert sent["X-Team"] == "ml"


def test_empty_success_body_is_none(server):
    server.on("DELETE", "/api/delete", Reply(200, body=None))
    assert client_for(server).delete("gemma3") is None
    assert server.calls("DELETE", "/api/delete")[0].json == {"model": "gemma3"}


def test_http_error_names_url_operation_status_and_server_text(server):
    server.on("POST", "/api/show", Reply(400, body={"error": "invalid model name"}))
    with pytest.raises(OllamaError) as exc:
        client_for(server).request("POST", "/api/show", {"model": "x y"})
    message = str(exc.value)
    assert server.url in message
    assert "POST /api/show" in message
    assert "HTTP 400" in message
    assert "invalid model name" in message
    assert exc.value.status == 400


def test_show_404_is_none(server):
    server.on("POST", "/api/show", Reply(404, body={"error": "model 'nope' not found"}))
    assert client_for(server).show("nope") is None


def test_error_key_in_a_200_json_body_is_an_error(server):
    server.on("GET", "/api/tags", Reply(200, body={"error": "something broke"}))
    with pytest.raises(OllamaError, match="something broke"):
        client_for(server).tags()


def test_malformed_json_is_reported(server):
    server.on("GET", "/api/tags", Reply(200, body="<html>proxy error</html>"))
    with pytest.raises(OllamaError, match="not JSON.*proxy error"):
        client_for(server).tags()


def test_plain_text_error_body_is_shown(server):
    server.on("GET", "/api/ps", Reply(502, body="bad gateway from nginx"))
    with pytest.raises(OllamaError, match="HTTP 502 to GET /api/ps: bad gateway from nginx"):
        client_for(server, retries=0).ps()


def test_idempotent_get_retries_503_with_backoff(server):
    server.on("GET", "/api/tags", Reply(503, body={"error": "server busy"}), Reply(200, body={"models": []}))
    sleeps = []
    client = client_for(server, sleep=sleeps.append, backoff=0.5)
    assert client.tags() == []
    assert sleeps == [0.5]
    assert len(server.calls("GET", "/api/tags")) == 2


def test_post_is_not_retried(server):
    server.on("POST", "/api/copy", Reply(503, body={"error": "server busy"}))
    with pytest.raises(OllamaError, match="HTTP 503"):
        client_for(server).copy("a", "b")
    assert len(server.calls("POST", "/api/copy")) == 1


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_connection_refused_is_retried_then_named():
    sleeps = []
    client = OllamaClient(f"127.0.0.1:{free_port()}", retries=3, backoff=1, sleep=sleeps.append)
    with pytest.raises(OllamaConnectionError) as exc:
        client.tags()
    assert sleeps == [1, 2, 4]
    assert str(exc.value) == f"Cannot reach Ollama at {client.base_url} (GET /api/tags): connection refused"


def test_read_timeout_is_reported(server):
    server.on("GET", "/api/tags", Reply(200, body={"models": []}, delay=1.5))
    with pytest.raises(OllamaConnectionError, match="GET /api/tags.*timed out"):
        client_for(server, timeout=0.3, retries=0).tags()


def test_tls_failure_names_the_url(server):
    server.on("GET", "/api/version", Reply(body={"version": "x"}))
    client = OllamaClient(server.url.replace("http://", "https://"), retries=0)
    with pytest.raises(OllamaConnectionError) as exc:
        client.version()
    assert f"Cannot reach Ollama at {client.base_url} (GET /api/version)" in str(exc.value)
    server.unexpected.clear()  # the TLS hello is not an HTTP request the script could answer


PULL_LINES = [
    {"status": "pulling manifest"},
    {"status": "pulling 6a0746a1ec1a", "digest": "sha256:6a07", "total": 100, "completed": 50},
    {"status": "pulling 6a0746a1ec1a", "digest": "sha256:6a07", "total": 100, "completed": 100},
    {"status": "verifying sha256 digest"},
    {"status": "writing manifest"},
    {"status": "success"},
]


def test_stream_yields_each_line(server):
    server.on("POST", "/api/pull", Reply(lines=PULL_LINES))
    lines = list(client_for(server).pull("gemma3", insecure=True))
    assert lines == PULL_LINES
    assert server.calls("POST", "/api/pull")[0].json == {"model": "gemma3", "stream": True, "insecure": True}


def test_error_line_inside_a_200_stream_raises(server):
    server.on("POST", "/api/pull", Reply(lines=[
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]))
    seen = []
    with pytest.raises(OllamaError) as exc:
        for line in client_for(server).pull("nope"):
            seen.append(line)
    assert seen == [{"status": "pulling manifest"}]
    assert "pull model manifest: file does not exist" in str(exc.value)
    assert "POST /api/pull" in str(exc.value)
    assert exc.value.status == 200


def test_dropped_stream_is_a_connection_error(server):
    server.on("POST", "/api/pull", Reply(lines=PULL_LINES[:2] + [Reply.DROP]))
    with pytest.raises(OllamaConnectionError, match="the stream broke"):
        list(client_for(server).pull("gemma3"))


def test_silent_stream_stalls(server):
    server.on("POST", "/api/pull", Reply(lines=PULL_LINES[:2] + [("sleep", 2)] + PULL_LINES[2:]))
    with pytest.raises(OllamaStallError, match="no data for 0.5 seconds"):
        list(client_for(server).pull("gemma3", stall_timeout=0.5))


def test_stream_without_progress_stalls(server):
    # Ollama sends a progress line every 60 ms even when no byte arrives: repeated identical lines are a stall.
    stuck = {"status": "pulling 6a0746a1ec1a", "digest": "sha256:6a07", "total": 100, "completed": 50}
    server.on("POST", "/api/pull", Reply(lines=[stuck] * 40, line_delay=0.05))
    with pytest.raises(OllamaStallError, match="no progress for 0.5 seconds"):
        list(client_for(server).pull("gemma3", stall_timeout=0.5))


def test_malformed_stream_line(server):
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, "{not json"]))
    with pytest.raises(OllamaError, match="malformed line"):
        list(client_for(server).pull("gemma3"))


def test_stream_error_before_first_line_is_http_status(server):
    server.on("POST", "/api/pull", Reply(400, body={"error": "invalid model name"}))
    with pytest.raises(OllamaError, match="HTTP 400 to POST /api/pull: invalid model name"):
        list(client_for(server).pull("x"))
