# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A small client for the Ollama HTTP API over ``ansible.module_utils.urls``.

JSON requests with a timeout, TLS options, a bearer API key and extra headers; NDJSON streams read line by line,
where every line is checked for an ``error`` key (Ollama reports failures inside HTTP 200 streams); errors that
name the URL, the operation, the HTTP status and the server's text; retries with backoff for connection errors on
idempotent calls.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import Request

try:
    from http.client import HTTPException
except ImportError:  # pragma: no cover - Python 2 is not supported, but keep the import test calm
    HTTPException = Exception

DEFAULT_URL = "http://127.0.0.1:11434"
DEFAULT_PORT = 11434
USER_AGENT = "llmops.ollama (ansible)"


class OllamaError(Exception):
    """A failed call to Ollama. ``str()`` is the one-line message shown to the user."""

    def __init__(self, message, url=None, method=None, path=None, status=None, server_error=None):
        super().__init__(message)
        self.url = url
        self.method = method
        self.path = path
        self.status = status
        self.server_error = server_error

    def as_dict(self):
        return {
            "url": self.url,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "server_error": self.server_error,
        }


class OllamaConnectionError(OllamaError):
    """Ollama could not be reached, or the connection broke."""


class OllamaStallError(OllamaError):
    """A stream made no progress for longer than allowed."""


def _split_host_port(hostport):
    """``net.SplitHostPort``: return (host, port) or None when there is no port."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1:].startswith(":"):
            return None
        return hostport[1:end], hostport[end + 2:]
    if hostport.count(":") != 1:
        return None
    host, port = hostport.split(":")
    return host, port


def normalize_url(value):
    """Turn an ``OLLAMA_HOST``-style value into a base URL, the way the Ollama CLI reads it.

    ``host``, ``host:port``, ``[v6]:port`` and ``scheme://host[:port][/path]`` are accepted. A missing port is
    11434, except 80 for ``http://`` and 443 for ``https://``; an empty value is ``http://127.0.0.1:11434``.
    """
    text = (value or "").strip().strip("\"'")
    if not text:
        return DEFAULT_URL
    default_port = str(DEFAULT_PORT)
    if "://" in text:
        scheme, hostport = text.split("://", 1)
        scheme = scheme.lower()
        if scheme == "http":
            default_port = "80"
        elif scheme == "https":
            default_port = "443"
        else:
            raise ValueError(f"url {value!r}: scheme {scheme!r} is not http or https")
    else:
        scheme, hostport = "http", text
        if text == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    hostport, dummy, path = hostport.partition("/")
    split = _split_host_port(hostport)
    if split is None or not split[0] and not split[1]:
        host, port = hostport.strip("[]") or "127.0.0.1", default_port
    else:
        host, port = split
        host = host or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"url {value!r}: port {port!r} is not a number from 0 to 65535")
    if ":" in host:
        host = f"[{host}]"
    base = f"{scheme}://{host}:{int(port)}"
    if path.strip("/"):
        base += "/" + path.strip("/")
    return base


def _server_error_text(body):
    """The ``error`` of an Ollama JSON error body, else the body itself (trimmed)."""
    text = to_text(body or b"", errors="surrogate_or_replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(data, dict) and "error" in data:
        return to_text(data["error"])
    return text[:500]


def _reason(exc):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.timeout) or isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    text = to_text(getattr(reason, "strerror", None) or reason)
    return text or exc.__class__.__name__


class OllamaClient:
    """Talks to one Ollama server."""

    def __init__(self, url=None, timeout=30.0, validate_certs=True, ca_path=None, client_cert=None,
                 client_key=None, api_key=None, headers=None, retries=3, backoff=0.5, sleep=time.sleep,
                 clock=time.monotonic):
        self.base_url = normalize_url(url)
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self._sleep = sleep
        self._clock = clock
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        for key, val in (headers or {}).items():
            self._headers[str(key)] = str(val)
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._request = Request(
            validate_certs=validate_certs,
            ca_path=ca_path,
            client_cert=client_cert,
            client_key=client_key,
            http_agent=USER_AGENT,
            follow_redirects="safe",
        )

    # ------------------------------------------------------------------------------------------ transport

    def _open(self, method, path, body, timeout):
        data = None
        headers = dict(self._headers)
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return self._request.open(method, self.base_url + path, data=data, headers=headers, timeout=timeout)

    def _fail(self, cls, method, path, what, status=None, server_error=None):
        url = self.base_url
        if status is None:
            message = f"Cannot reach Ollama at {url} ({method} {path}): {what}"
        else:
            message = f"Ollama at {url} answered HTTP {status} to {method} {path}: {what}"
        return cls(message, url=url, method=method, path=path, status=status, server_error=server_error)

    def _call(self, method, path, body, timeout, idempotent):
        """Open a request, retrying connection failures of idempotent calls; return the response."""
        attempt = 0
        while True:
            try:
                return self._open(method, path, body, timeout)
            except HTTPError as exc:
                try:
                    text = _server_error_text(exc.read())
                except Exception:  # the body of an error may be unreadable; the status still says enough
                    text = ""
                if idempotent and exc.code in (502, 503, 504) and attempt < self.retries:
                    attempt += 1
                    self._sleep(self.backoff * (2 ** (attempt - 1)))
                    continue
                raise self._fail(OllamaError, method, path, text or exc.reason, status=exc.code, server_error=text)
            except (URLError, socket.timeout, ConnectionError, HTTPException, OSError) as exc:
                if getattr(exc, "__class__", None).__name__ in ("SSLValidationError", "SSLCertVerificationError"):
                    raise self._fail(OllamaConnectionError, method, path, f"TLS error: {_reason(exc)}")
                if idempotent and attempt < self.retries and not isinstance(getattr(exc, "reason", None), socket.timeout):
                    attempt += 1
                    self._sleep(self.backoff * (2 ** (attempt - 1)))
                    continue
                raise self._fail(OllamaConnectionError, method, path, _reason(exc))

    def request(self, method, path, body=None, timeout=None, idempotent=None):
        """One JSON request. Returns the decoded body, or None for an empty body (delete and copy answer so)."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD")
        response = self._call(method, path, body, timeout or self.timeout, idempotent)
        try:
            raw = response.read()
        except (socket.timeout, OSError, HTTPException) as exc:
            raise self._fail(OllamaConnectionError, method, path, f"reading the answer failed: {_reason(exc)}")
        finally:
            response.close()
        text = to_text(raw, errors="surrogate_or_replace").strip()
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            raise self._fail(OllamaError, method, path, f"the answer is not JSON: {text[:200]!r}", status=200)
        if isinstance(data, dict) and data.get("error"):
            raise self._fail(OllamaError, method, path, to_text(data["error"]), status=200, server_error=data["error"])
        return data

    def stream(self, method, path, body, stall_timeout=300.0, progress_key=None, final_status="success"):
        """Yield the JSON objects of an NDJSON stream, one per line, as they arrive.

        Raises OllamaError for an ``{"error": ...}`` line even inside HTTP 200, OllamaConnectionError when the
        stream ends before a line with ``status == final_status`` (pull, push and create end with ``success``;
        a dropped connection can look like a clean end of stream), and OllamaStallError when no progress was seen
        for ``stall_timeout`` seconds. Progress is a change of ``progress_key(line)`` (default: the whole line).
        """
        response = self._call(method, path, body, stall_timeout, idempotent=False)
        key = progress_key or (lambda item: json.dumps(item, sort_keys=True))
        last_key = None
        last_status = None
        last_progress = self._clock()
        try:
            while True:
                try:
                    raw = response.readline()
                except socket.timeout:
                    raise self._fail(OllamaStallError, method, path,
                                     f"no data for {stall_timeout:g} seconds (stall_timeout)")
                except (OSError, HTTPException) as exc:
                    raise self._fail(OllamaConnectionError, method, path,
                                     f"the stream broke: {_reason(exc)}")
                if not raw:
                    if final_status is not None and last_status != final_status:
                        raise self._fail(OllamaConnectionError, method, path,
                                         f"the stream broke before Ollama reported {final_status!r} "
                                         f"(last status: {last_status or 'none'})")
                    return
                line = to_text(raw, errors="surrogate_or_replace").strip()
                if not line:
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    raise self._fail(OllamaError, method, path, f"malformed line in the stream: {line[:200]!r}", status=200)
                if not isinstance(item, dict):
                    raise self._fail(OllamaError, method, path, f"malformed line in the stream: {line[:200]!r}", status=200)
                if "error" in item:
                    raise self._fail(OllamaError, method, path, to_text(item["error"]), status=200,
                                     server_error=to_text(item["error"]))
                last_status = item.get("status", last_status)
                now = self._clock()
                current = key(item)
                if current != last_key:
                    last_key = current
                    last_progress = now
                elif now - last_progress > stall_timeout:
                    raise self._fail(OllamaStallError, method, path,
                                     f"no progress for {stall_timeout:g} seconds (stall_timeout); last status: "
                                     f"{item.get('status', '?')}")
                yield item
        finally:
            response.close()

    # ------------------------------------------------------------------------------------------ API calls

    def version(self):
        return (self.request("GET", "/api/version") or {}).get("version")

    def tags(self):
        return (self.request("GET", "/api/tags") or {}).get("models") or []

    def ps(self):
        return (self.request("GET", "/api/ps") or {}).get("models") or []

    def show(self, model):
        """``/api/show`` for ``model``; None when the server says 404."""
        try:
            return self.request("POST", "/api/show", {"model": model}, idempotent=True)
        except OllamaError as exc:
            if exc.status == 404:
                return None
            raise

    def delete(self, model):
        self.request("DELETE", "/api/delete", {"model": model})

    def copy(self, source, destination):
        self.request("POST", "/api/copy", {"source": source, "destination": destination})

    def pull(self, model, insecure=False, stall_timeout=300.0):
        """Stream ``/api/pull``; yields progress lines. A pull is safe to repeat: the server resumes blobs."""
        body = {"model": model, "stream": True}
        if insecure:
            body["insecure"] = True
        return self.stream("POST", "/api/pull", body, stall_timeout=stall_timeout,
                           progress_key=lambda item: (item.get("status"), item.get("digest"), item.get("completed")))

    def create(self, body, stall_timeout=300.0):
        body = dict(body, stream=True)
        return self.stream("POST", "/api/create", body, stall_timeout=stall_timeout,
                           progress_key=lambda item: (item.get("status"), item.get("completed")))

    def generate(self, body, timeout=None):
        return self.request("POST", "/api/generate", dict(body, stream=False), timeout=timeout)

    def embed(self, body, timeout=None):
        return self.request("POST", "/api/embed", body, timeout=timeout)

    def host_of(self):
        return urlsplit(self.base_url).hostname


# ---------------------------------------------------------------------------------------------- pulls and registry

class PullStats:
    """What one (possibly retried) pull transferred, counted from its progress lines.

    A layer whose first progress line already shows ``completed == total`` was on the server before (a cache hit);
    every other layer was downloaded or resumed in this pull, and its ``total`` counts in ``bytes``.
    """

    def __init__(self):
        self.layers = {}          # digest -> [total, cached]
        self.progress_lines = 0
        self.attempts = 0
        self.seconds = 0.0
        self.statuses = []

    def see(self, item):
        self.progress_lines += 1
        status = item.get("status")
        if status and (not self.statuses or self.statuses[-1] != status):
            self.statuses.append(status)
        digest = item.get("digest")
        total = item.get("total")
        if not digest or not isinstance(total, int):
            return
        if digest not in self.layers:
            self.layers[digest] = [total, item.get("completed") == total]
        else:
            self.layers[digest][0] = total

    def as_dict(self):
        return {
            "bytes": sum(total for total, cached in self.layers.values() if not cached),
            "bytes_total": sum(total for total, cached in self.layers.values()),
            "layers": len(self.layers),
            "layers_cached": sum(1 for total, cached in self.layers.values() if cached),
            "seconds": round(self.seconds, 3),
            "attempts": self.attempts,
            "progress_lines": self.progress_lines,
        }


def _retryable(exc):
    """Transport failures between us and Ollama, stalls and 5xx before the stream: a repeated pull resumes."""
    if isinstance(exc, (OllamaConnectionError, OllamaStallError)):
        return True
    return exc.status is not None and exc.status >= 500 and exc.status != 200


def pull_with_retries(client, model, insecure=False, stall_timeout=300.0, retries=3, backoff=2.0, sleep=None,
                      clock=None, stats=None):
    """Pull ``model`` to the end of its stream, retrying broken connections, stalls and 5xx with backoff.

    Error lines inside the stream (a missing model, an unauthorized registry) are not retried: the server
    already retried what it could. Returns a PullStats; raises the last OllamaError when every attempt failed.
    """
    sleep = sleep or client._sleep
    clock = clock or client._clock
    stats = stats or PullStats()
    started = clock()
    attempt = 0
    try:
        while True:
            attempt += 1
            stats.attempts = attempt
            try:
                # stream() raises OllamaConnectionError when the stream ends before Ollama's 'success' line.
                for item in client.pull(model, insecure=insecure, stall_timeout=stall_timeout):
                    stats.see(item)
                return stats
            except OllamaError as exc:
                if attempt > retries or not _retryable(exc):
                    if attempt > 1:
                        exc.args = (f"{exc} (after {attempt} attempts)",)
                    raise
                sleep(backoff * (2 ** (attempt - 1)))
    finally:
        stats.seconds = clock() - started


class RegistryError(OllamaError):
    """The model's registry could not tell us its manifest digest."""


MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def registry_manifest_url(name, insecure=False):
    """The URL Ollama itself fetches the manifest of ``name`` (a ModelName) from."""
    scheme = "http" if insecure else "https"
    return f"{scheme}://{name.host}/v2/{name.namespace}/{name.model}/manifests/{name.tag}"


def registry_manifest_digest(name, insecure=False, timeout=30.0, validate_certs=True, opener=None):
    """``sha256:<hex>`` of the manifest the registry serves for ``name``, as Ollama would store it.

    Ollama stores the manifest byte for byte, so this equals the ``/api/tags`` digest after a pull.
    Raises RegistryError (``status`` 404 for a model the registry does not have, 401/403 when it wants
    credentials, None when it cannot be reached).
    """
    return registry_manifest(name, insecure, timeout, validate_certs, opener)[0]


def registry_manifest(name, insecure=False, timeout=30.0, validate_certs=True, opener=None):
    """``(sha256:<hex>, body bytes)`` of the manifest the registry serves for ``name``; errors as above."""
    url = registry_manifest_url(name, insecure)
    request = opener or Request(validate_certs=validate_certs, http_agent=USER_AGENT, follow_redirects="safe")
    what = f"GET {url}"
    try:
        response = request.open("GET", url, headers={"Accept": MANIFEST_MEDIA_TYPE}, timeout=timeout)
        try:
            body = response.read()
        finally:
            response.close()
    except HTTPError as exc:
        try:
            text = _server_error_text(exc.read())
        except Exception:
            text = ""
        raise RegistryError(f"Registry answered HTTP {exc.code} to {what}: {text or exc.reason}", url=url,
                            method="GET", path=url, status=exc.code, server_error=text)
    except (URLError, socket.timeout, ConnectionError, HTTPException, OSError) as exc:
        raise RegistryError(f"Cannot reach the registry ({what}): {_reason(exc)}", url=url, method="GET", path=url)
    return "sha256:" + hashlib.sha256(body).hexdigest(), body
