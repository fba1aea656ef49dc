# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The transport, against a scripted in-process HTTP server (fault injection, not an Ollama emulator)."""

from __future__ import annotations

import hashlib
import io
import signal
import socket
import threading
import time

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError

from ansible_collections.llmops.ollama.plugins.module_utils import _client as client_module
from ansible_collections.llmops.ollama.plugins.module_utils._client import (
    OllamaClient,
    OllamaConnectionError,
    OllamaError,
    OllamaStallError,
    OllamaTimeoutError,
    RegistryError,
    normalize_url,
    proxy_for_url,
    pull_with_retries,
    registry_manifest,
)
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_name
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, ScriptedServer


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
    assert client_for(server).request("DELETE", "/api/delete", {"model": "gemma3"}) is None
    assert server.calls("DELETE", "/api/delete")[0].json == {"model": "gemma3"}


def test_delete_missing_ok_turns_only_404_into_false(server):
    server.on("DELETE", "/api/delete", Reply(200, body=None), Reply(404, body={"error": "model 'x' not found"}),
              Reply(500, body={"error": "disk"}))
    client = client_for(server)
    assert client.delete("x", missing_ok=True) is True
    assert client.delete("x", missing_ok=True) is False
    with pytest.raises(OllamaError) as exc:
        client.delete("x", missing_ok=True)
    assert exc.value.status == 500


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
    # The first lines come at once, then silence: the stall is in the stream, not before the answer (a timeout
    # with room for a loaded machine to send the first lines, and silence well beyond it).
    server.on("POST", "/api/pull", Reply(lines=PULL_LINES[:2] + [("sleep", 5)] + PULL_LINES[2:]))
    with pytest.raises(OllamaStallError, match="no data for 2 seconds"):
        list(client_for(server).pull("gemma3", stall_timeout=2))


def test_stream_without_progress_stalls(server):
    # Ollama sends a progress line every 60 ms even when no byte arrives: repeated identical lines are a stall.
    stuck = {"status": "pulling 6a0746a1ec1a", "digest": "sha256:6a07", "total": 100, "completed": 50}
    server.on("POST", "/api/pull", Reply(lines=[stuck] * 100, line_delay=0.05))
    with pytest.raises(OllamaStallError, match="no progress for 1.5 seconds"):
        list(client_for(server).pull("gemma3", stall_timeout=1.5))


def test_malformed_stream_line(server):
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, "{not json"]))
    with pytest.raises(OllamaError, match="malformed line"):
        list(client_for(server).pull("gemma3"))


def test_stream_error_before_first_line_is_http_status(server):
    server.on("POST", "/api/pull", Reply(400, body={"error": "invalid model name"}))
    with pytest.raises(OllamaError, match="HTTP 400 to POST /api/pull: invalid model name"):
        list(client_for(server).pull("x"))


# ------------------------------------------------------------------------------------------------ security (issue 9)
# Each test below failed on the transport before issue 9: credentials followed redirects, a key with a newline
# reached http.client (which quotes it), a drip kept a request alive past its timeout, loopback went to the proxy,
# URL credentials were echoed, a huge line was buffered whole, a pull that left nothing installed succeeded.

SECRET = "s3cret-token-value"


@pytest.fixture
def other():
    srv = ScriptedServer()
    yield srv
    srv.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_credentials_reach_nobody_else(server, other, status):
    other.on("GET", "/api/version", Reply(body={"version": "9.9.9"}))
    server.on("GET", "/api/version", Reply(status, headers={"Location": other.url + "/api/version"}))
    client = client_for(server, api_key=SECRET, headers={"X-Secret": SECRET})
    with pytest.raises(OllamaError) as exc:
        client.version()
    message = str(exc.value)
    assert f"answered HTTP {status} to GET /api/version: a redirect to {other.url}/api/version, not followed" in message
    assert SECRET not in message
    assert other.requests == []                      # neither the token nor the header went there
    assert len(server.calls("GET", "/api/version")) == 1  # and a redirect is not retried


def test_a_redirect_of_a_post_is_not_followed(server, other):
    server.on("POST", "/api/show", Reply(307, headers={"Location": other.url + "/api/show"}))
    with pytest.raises(OllamaError, match="HTTP 307 to POST /api/show: a redirect to"):
        client_for(server, api_key=SECRET).show("gemma3")
    assert other.requests == []


def test_netrc_never_replaces_the_configured_token(server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    client_for(server, api_key=SECRET).version()
    assert server.calls()[0].headers["Authorization"] == f"Bearer {SECRET}"


def registry_name(srv, tag="270m"):
    return parse_name(f"{srv.url[len('http://'):]}/library/gemma3:{tag}")


def test_manifest_redirect_to_another_port_is_followed_without_credentials(server, other):
    manifest = b'{"schemaVersion":2}'
    server.on("GET", "/v2/library/gemma3/manifests/270m",
              Reply(307, headers={"Location": other.url + "/v2/library/gemma3/manifests/270m"}))
    other.on("GET", "/v2/library/gemma3/manifests/270m", Reply(body=manifest))
    digest, dummy = registry_manifest(registry_name(server), insecure=True,
                                      headers={"Authorization": f"Bearer {SECRET}", "Cookie": SECRET})
    assert digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
    (first,) = server.requests
    (second,) = other.requests
    assert first.headers["Authorization"] == f"Bearer {SECRET}"
    assert "Authorization" not in second.headers and "Cookie" not in second.headers


def test_manifest_redirect_on_the_same_origin_keeps_credentials(server):
    manifest = b'{"schemaVersion":2}'
    server.on("GET", "/v2/library/gemma3/manifests/270m", Reply(307, headers={"Location": "/elsewhere"}))
    server.on("GET", "/elsewhere", Reply(body=manifest))
    registry_manifest(registry_name(server), insecure=True, headers={"Authorization": f"Bearer {SECRET}"})
    assert server.calls("GET", "/elsewhere")[0].headers["Authorization"] == f"Bearer {SECRET}"


class RedirectingOpener:
    """Answers every https URL with a redirect to ``target``; records what was opened (no TLS server needed)."""

    def __init__(self, target):
        self.target = target
        self.opened = []

    def open(self, method, url, headers=None, timeout=None):
        self.opened.append(url)
        raise HTTPError(url, 301, "Moved", {"Location": self.target}, io.BytesIO(b""))


@pytest.mark.parametrize("target", ["http://127.0.0.1:1/v2/library/gemma3/manifests/270m", "file:///etc/passwd"])
def test_manifest_redirect_away_from_https_is_refused(target):
    opener = RedirectingOpener(target)
    with pytest.raises(RegistryError) as exc:
        registry_manifest(parse_name("registry.example/library/gemma3:270m"), opener=opener)
    assert "refused" in str(exc.value)
    assert opener.opened == ["https://registry.example/v2/library/gemma3/manifests/270m"]


def test_manifest_redirect_loop_ends(server):
    server.on("GET", "/v2/library/gemma3/manifests/270m",
              Reply(302, headers={"Location": "/v2/library/gemma3/manifests/270m"}))
    with pytest.raises(RegistryError, match="more than 5 times"):
        registry_manifest(registry_name(server), insecure=True)
    assert len(server.requests) == 6


def test_plain_http_registry_over_https_suggests_insecure(server):
    # A real TLS handshake against a plain-HTTP server: Python's ssl error, read as "plain HTTP answered".
    with pytest.raises(RegistryError) as exc:
        registry_manifest(registry_name(server), insecure=False, timeout=5)
    assert "set insecure: true" in str(exc.value)
    server.unexpected.clear()


# -- item 2 / 13: option values


def test_one_trailing_newline_of_the_key_is_dropped(server):
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    client_for(server, api_key=SECRET + "\n", headers={"X-Team": "ml\r\n"}).version()
    sent = server.calls()[0].headers
    assert sent["Authorization"] == f"Bearer {SECRET}"
    assert sent["X-Team"] == "ml"


@pytest.mark.parametrize("key,what", [
    (SECRET + "\r\nX-Injected: 1", "a carriage return"),
    (SECRET + "\n\n", "a line feed"),
    ("\x00" + SECRET, "a NUL byte"),
    (SECRET + "\x1b[31m", "U+001B"),
    ("ключ-" + SECRET, "outside latin-1"),
])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(key, what):
    with pytest.raises(ValueError) as exc:
        OllamaClient("127.0.0.1:1", api_key=key)
    message = str(exc.value)
    assert message.startswith("api_key contains ") and what in message and "not shown" in message
    assert SECRET not in message and "ключ" not in message


@pytest.mark.parametrize("headers,expected", [
    ({"X-Bad\r\nInjected": "v"}, "headers: 'X-Bad\\r\\nInjected' is not a valid HTTP header name"),
    ({"X Space": "v"}, "headers: 'X Space' is not a valid HTTP header name"),
    ({"": "v"}, "headers: '' is not a valid HTTP header name"),
    ({"X-Token": SECRET + "\r\nX-Injected: 1"}, "headers['X-Token'] contains a carriage return"),
    ({"X-Token": "€" + SECRET}, "headers['X-Token'] contains a character outside latin-1"),
])
def test_bad_header_names_and_values_are_refused_without_showing_values(headers, expected):
    with pytest.raises(ValueError) as exc:
        OllamaClient("127.0.0.1:1", headers=headers)
    assert str(exc.value).startswith(expected)
    assert SECRET not in str(exc.value)


@pytest.mark.parametrize("value,expected", [
    ("http://gpu01:11434\n/api", "a line feed (\\n) at character 19"),
    ("http://gpu 01:11434", "a space at character 11"),
    ("gpu01\x00", "a NUL byte at character 6"),
])
def test_control_characters_in_the_url_are_refused(value, expected):
    with pytest.raises(ValueError) as exc:
        normalize_url(value)
    assert expected in str(exc.value)


@pytest.mark.parametrize("value", [
    f"http://admin:{SECRET}@gpu01:11434", f"https://{SECRET}@gpu01", f"admin:{SECRET}@gpu01:11434",
    f"http://admin:{SECRET}@gpu01:11434/ollama",
])
def test_credentials_in_the_url_are_refused_without_repeating_them(value):
    with pytest.raises(ValueError) as exc:
        normalize_url(value)
    message = str(exc.value)
    assert SECRET not in message and "admin" not in message
    assert "api_key" in message and "headers" in message


def test_an_at_sign_in_the_path_is_not_userinfo():
    assert normalize_url("http://gpu01:11434/team@ml") == "http://gpu01:11434/team@ml"


# -- item 4: time bounds


def test_a_json_answer_dripped_one_byte_a_second_fails_at_the_timeout(server):
    body = b'{"version": "0.24.0"}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    server.on("GET", "/api/version", Reply(raw=[head, ("drip", body, 0.5)]))
    started = time.monotonic()
    with pytest.raises(OllamaTimeoutError, match=r"GET /api/version\): timed out: no complete answer within 2 "):
        client_for(server, timeout=2, retries=0).version()
    assert time.monotonic() - started < 5  # well before the 6 s of heartbeats end, with room for a loaded machine


def test_dripped_headers_fail_at_the_timeout(server):
    server.on("GET", "/api/tags", Reply(raw=[("drip", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200, 0.2)]))
    started = time.monotonic()
    with pytest.raises(OllamaTimeoutError, match="within 1.5 seconds"):
        client_for(server, timeout=1.5, retries=3).tags()
    assert time.monotonic() - started < 2.5
    assert len(server.requests) == 1  # a timeout is not retried


def test_without_sigalrm_the_drip_is_still_bounded(server):
    # Where no timer can be armed (not the main thread), the clock checks between reads bound the request to the
    # deadline plus one read.
    body = b'{"version": "0.24.0"}' + b" " * 200
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    server.on("GET", "/api/version", Reply(raw=[head, ("drip", body, 0.2)]))
    outcome = {}

    def call():
        started = time.monotonic()
        try:
            client_for(server, timeout=1.5, retries=0).version()
        except OllamaError as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(20)
    assert isinstance(outcome["error"], OllamaTimeoutError)
    assert outcome["seconds"] < 2.5


def test_the_timer_is_disarmed_and_the_handler_restored(server):
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    before = signal.getsignal(signal.SIGALRM)
    client_for(server).version()
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_stream_dripping_bytes_without_a_line_stalls(server):
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, ("drip", b'{"status": "' + b"x" * 100, 0.5)]))
    started = time.monotonic()
    with pytest.raises(OllamaStallError) as exc:
        list(client_for(server).pull("gemma3", stall_timeout=3))
    assert time.monotonic() - started < 4.5
    assert "no progress for 3 seconds (stall_timeout)" in str(exc.value)
    assert "last status: pulling manifest" in str(exc.value)


def test_blank_line_heartbeats_are_not_progress(server):
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}] + [""] * 60, line_delay=0.1))
    started = time.monotonic()
    with pytest.raises(OllamaStallError, match="no progress for 2 seconds"):
        list(client_for(server).pull("gemma3", stall_timeout=2))
    assert time.monotonic() - started < 5  # well before the 6 s of heartbeats end, with room for a loaded machine


def test_a_slow_but_progressing_pull_is_not_a_stall(server):
    lines = [{"status": "pulling manifest"}]
    lines += [{"status": "pulling aaaa", "digest": "sha256:aa", "total": 10, "completed": n} for n in range(1, 11)]
    lines += [{"status": "success"}]
    server.on("POST", "/api/pull", Reply(lines=lines, line_delay=0.3))  # 3 s in all, never 3 s without progress
    assert len(list(client_for(server).pull("gemma3", stall_timeout=3))) == 12


# -- item 6: proxies


def test_loopback_goes_direct_even_with_a_proxy_in_the_environment(server, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(var, dead)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    client = client_for(server, api_key=SECRET, retries=0)
    assert client.proxy is None
    assert client.version() == "0.24.0"


def test_a_remote_url_goes_through_the_proxy_and_errors_say_so(server, monkeypatch):
    monkeypatch.setenv("http_proxy", server.url)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    # The scripted server plays the proxy: it sees the absolute URL in the request line.
    server.on("GET", "http://gpu01.example:11434/api/version", Reply(407, body="proxy wants credentials"))
    client = OllamaClient("gpu01.example", retries=0)
    with pytest.raises(OllamaError) as exc:
        client.version()
    assert str(exc.value) == (f"Ollama at http://gpu01.example:11434 (through the proxy {server.url}) answered "
                              f"HTTP 407 to GET /api/version: proxy wants credentials")
    monkeypatch.setenv("http_proxy", f"http://user:{SECRET}@127.0.0.1:{free_port()}")
    with pytest.raises(OllamaConnectionError) as exc:
        OllamaClient("gpu01.example", retries=0).version()
    assert str(exc.value).startswith("Cannot reach Ollama at http://gpu01.example:11434 through the proxy "
                                     "http://***@127.0.0.1:")
    assert str(exc.value).endswith("(GET /api/version): connection refused")
    monkeypatch.setenv("no_proxy", "example")
    assert OllamaClient("gpu01.example").proxy is None


@pytest.mark.parametrize("url,env,expected", [
    ("http://127.0.0.1:11434", {"http_proxy": "P"}, None),
    ("http://127.9.9.9:11434", {"HTTP_PROXY": "P"}, None),
    ("http://[::1]:11434", {"http_proxy": "P"}, None),
    ("http://[::ffff:127.0.0.1]:11434", {"http_proxy": "P"}, None),
    ("http://localhost:11434", {"http_proxy": "P"}, None),
    ("http://LOCALHOST:11434", {"http_proxy": "P"}, None),
    ("http://gpu01:11434", {"http_proxy": "P"}, "P"),
    ("http://gpu01:11434", {"https_proxy": "P"}, None),
    ("https://gpu01:443", {"https_proxy": "S", "http_proxy": "P"}, "S"),
    ("http://gpu01:11434", {"HTTP_PROXY": "UP", "http_proxy": "low"}, "UP"),
    ("http://gpu01:11434", {"http_proxy": "P", "no_proxy": "*"}, None),
    ("http://gpu01:11434", {"http_proxy": "P", "no_proxy": "gpu01"}, None),
    ("http://gpu01.lab:11434", {"http_proxy": "P", "no_proxy": "lab"}, None),
    ("http://lab:11434", {"http_proxy": "P", "no_proxy": ".lab"}, "P"),
    ("http://gpu01.lab:11434", {"http_proxy": "P", "no_proxy": ".lab"}, None),
    ("http://gpu01.lab:11434", {"http_proxy": "P", "no_proxy": "*.lab"}, None),
    ("http://xlab:11434", {"http_proxy": "P", "no_proxy": "lab"}, "P"),
    ("http://gpu01:11434", {"http_proxy": "P", "no_proxy": "gpu01:80"}, "P"),
    ("http://gpu01:80", {"http_proxy": "P", "no_proxy": "gpu01:80"}, None),
    ("http://10.1.2.3:11434", {"http_proxy": "P", "NO_PROXY": "10.0.0.0/8"}, None),
    ("http://10.1.2.3:11434", {"http_proxy": "P", "no_proxy": "10.1.2.3"}, None),
    ("http://10.1.2.3:11434", {"http_proxy": "P", "no_proxy": "10.1.2.3:11434"}, None),
    ("http://10.1.2.3:11434", {"http_proxy": "P", "no_proxy": "10.1.2.3:80"}, "P"),
    ("http://10.1.2.3:11434", {"http_proxy": "P", "no_proxy": "1.2.3"}, "P"),
    ("http://[fd00::5]:11434", {"http_proxy": "P", "no_proxy": "fd00::/8"}, None),
    ("http://[fd00::5]:11434", {"http_proxy": "P", "no_proxy": "[fd00::5]:11434"}, None),
    ("http://gpu01:11434", {"http_proxy": "P", "no_proxy": " foo , GPU01 "}, None),
])
def test_proxy_choice_is_gos_proxy_from_environment(url, env, expected):
    assert proxy_for_url(url, env) == expected


# -- item 8: sizes


def test_a_huge_stream_line_is_refused_without_buffering_it(server):
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, "x" * (3 << 20)]))
    with pytest.raises(OllamaError) as exc:
        list(client_for(server).pull("gemma3"))
    assert "a line of the stream is longer than 1024 KiB, refused" in str(exc.value)
    assert len(str(exc.value)) < 300


def test_a_huge_error_text_is_quoted_short(server):
    server.on("POST", "/api/pull", Reply(lines=[{"error": "e" * 900000 + "\x1b[2J"}]))
    with pytest.raises(OllamaError) as exc:
        list(client_for(server).pull("gemma3"))
    message = str(exc.value)
    assert len(message) < 1300 and "more characters not shown" in message
    assert len(exc.value.server_error) < 1100


def test_a_huge_error_body_is_quoted_short(server):
    server.on("GET", "/api/tags", Reply(500, body="<html>" + "x" * 5000000 + "\x1b]0;owned\x07"))
    with pytest.raises(OllamaError) as exc:
        client_for(server, retries=0).tags()
    assert len(str(exc.value)) < 800
    assert "\x1b" not in str(exc.value)


def test_a_json_answer_over_the_limit_is_refused(server, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_BODY_BYTES", 1 << 16)
    server.on("GET", "/api/tags", Reply(body={"models": [{"name": "m" * 100}] * 2000}))
    with pytest.raises(OllamaError, match="larger than 64 KiB, refused"):
        client_for(server).tags()


# -- item 11: a pull that said success but left nothing


def test_a_pull_whose_model_is_missing_afterwards_fails(server):
    server.on("POST", "/api/pull", Reply(lines=PULL_LINES))
    server.on("GET", "/api/tags", Reply(body={"models": [{"name": "other:latest", "model": "other:latest"}]}))
    with pytest.raises(OllamaError) as exc:
        pull_with_retries(client_for(server), "gemma3:270m", sleep=lambda s: None)
    assert str(exc.value) == (f"Ollama at {server.url} reported the pull of gemma3:270m as successful, but "
                              f"GET /api/tags does not list it")
    assert len(server.calls("POST", "/api/pull")) == 1


def test_a_pull_whose_model_is_listed_afterwards_succeeds(server):
    server.on("POST", "/api/pull", Reply(lines=PULL_LINES))
    server.on("GET", "/api/tags", Reply(body={"models": [{"name": "gemma3:270m", "model": "gemma3:270m"}]}))
    assert pull_with_retries(client_for(server), "library/gemma3:270m").attempts == 1


# -- issue 8 wording: a failed pull says so


def test_a_failed_pull_names_the_model_url_operation_and_server_text(server):
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"},
                                                {"error": "pull model manifest: file does not exist"}]))
    with pytest.raises(OllamaError) as exc:
        list(client_for(server).pull("nothere:v9"))
    assert str(exc.value) == (f"Ollama at {server.url} could not pull nothere:v9 (POST /api/pull): "
                              f"pull model manifest: file does not exist")


def test_a_plain_http_registry_without_insecure_suggests_it(server):
    text = ('pull model manifest: Get "https://10.0.0.9:5000/v2/library/gemma3/manifests/270m": '
            'http: server gave HTTP response to HTTPS client')
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, {"error": text}]))
    with pytest.raises(OllamaError) as exc:
        list(client_for(server).pull("10.0.0.9:5000/library/gemma3:270m"))
    assert str(exc.value).endswith(text + "; the registry answered in plain HTTP to an HTTPS request: if it serves "
                                   "plain http, set insecure: true")
    with pytest.raises(OllamaError) as exc:
        list(client_for(server).pull("10.0.0.9:5000/library/gemma3:270m", insecure=True))
    assert "insecure" not in str(exc.value)


def test_a_stream_whose_answer_never_starts_is_a_stall(server):
    server.on("POST", "/api/pull", Reply(raw=[("drip", b"HTTP/1.1 200 OK\r\n" + b"X: " + b"x" * 100, 0.2)]))
    started = time.monotonic()
    with pytest.raises(OllamaStallError, match=r"POST /api/pull\): no answer for 1 seconds \(stall_timeout\)"):
        list(client_for(server).pull("gemma3", stall_timeout=1))
    assert time.monotonic() - started < 2
