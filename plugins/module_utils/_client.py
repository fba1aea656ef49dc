# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A small client for the Ollama HTTP API over ``ansible.module_utils.urls``.

JSON requests with a total deadline, TLS options, a bearer API key and extra headers; NDJSON streams read line by
line, where every line is checked for an ``error`` key (Ollama reports failures inside HTTP 200 streams); errors
that name the URL, the operation, the HTTP status and the server's text; retries with backoff for connection errors
on idempotent calls.

What it guarantees (docs/docsite/rst/security.rst): credentials go only to ``url`` (no redirect is followed, the manifest GET
never leaves https and never carries credentials to another origin); the proxy decision is Go's
``ProxyFromEnvironment`` (loopback always direct, ``no_proxy`` honoured); every request is bounded in time, every
stream in time without progress, every line and every quoted server text in size; a bad key, header or URL fails
before any request with a message that does not contain the secret.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import json
import os
import re
import signal
import socket
import threading
import time

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urljoin, urlsplit, urlunsplit
from ansible.module_utils.urls import Request, make_context

from ansible_collections.llmops.ollama.plugins.module_utils._facts import index_tags
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_name

try:
    from http.client import HTTPException
except ImportError:  # pragma: no cover - Python 2 is not supported, but keep the import test calm
    HTTPException = Exception

DEFAULT_URL = "http://127.0.0.1:11434"
DEFAULT_PORT = 11434
USER_AGENT = "llmops.ollama (ansible)"

MAX_LINE_BYTES = 1 << 20      # one NDJSON line (Ollama's progress lines are a few hundred bytes)
MAX_BODY_BYTES = 16 << 20     # one JSON answer (/api/tags of a thousand models is well under 1 MiB)
MAX_ERROR_BODY_BYTES = 64 << 10
MAX_QUOTE_CHARS = 1000        # server text quoted in a message
MAX_REDIRECTS = 5             # registry manifest GET only; the Ollama API is never redirected
_READ_CHUNK = 64 << 10


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


class OllamaTimeoutError(OllamaConnectionError):
    """A request did not finish within its deadline (slow or dripping server or proxy)."""


# ---------------------------------------------------------------------------------------------- option values

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")   # RFC 9110 field-name
_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a field value may hold a tab, no other control
_URL_BAD = re.compile(r"[\x00-\x20\x7f]")
_QUOTE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def backoff_delay(backoff, attempt):
    """Seconds to wait before retry number ``attempt`` (1, 2, ...): ``backoff``, then doubled for each retry."""
    return backoff * (2 ** (attempt - 1))


def _describe_char(char):
    names = {"\n": "a line feed (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab", " ": "a space",
             "\x00": "a NUL byte"}
    return names.get(char, f"the control character U+{ord(char):04X}")


def clean_header_value(what, value):
    """``value`` as it can be sent in an HTTP header; ValueError naming ``what`` (never the value) otherwise.

    One trailing newline is dropped: ``echo "$KEY" | ansible-vault encrypt_string`` keeps it, and no header can
    carry it. Any other control character, or a character outside latin-1, is refused.
    """
    text = value if isinstance(value, str) else to_text(value)
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    match = _VALUE_CONTROL.search(text)
    if match:
        raise ValueError(f"{what} contains {_describe_char(match.group())} at character {match.start() + 1}, which "
                         f"an HTTP header cannot carry (the value is not shown)")
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} contains a character outside latin-1 at character {exc.start + 1}, which an HTTP "
                         f"header cannot carry (the value is not shown)")
    return text


def clean_header_name(name):
    text = to_text(name)
    if not _TOKEN.match(text):
        raise ValueError(f"headers: {text!r} is not a valid HTTP header name (letters, digits and "
                         f"!#$%&'*+-.^_`|~ only, no spaces or control characters)")
    return text


def quote_server_text(text, limit=MAX_QUOTE_CHARS):
    """Server text as it may appear in a message: control characters replaced, at most ``limit`` characters."""
    text = _QUOTE_CONTROL.sub("\ufffd", to_text(text, errors="surrogate_or_replace"))
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters not shown)"
    return text


def mask_userinfo(url):
    """``url`` without any ``user:password@`` part (for messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparsable URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


# ---------------------------------------------------------------------------------------------- proxies

def _env_any(environ, *names):
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return ""


def _ip(text):
    """An IP address (an IPv4-mapped IPv6 address as its IPv4 form, as Go compares them), or None."""
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    return getattr(ip, "ipv4_mapped", None) or ip


def _no_proxy_matches(host, port, no_proxy):
    """Go's ``httpproxy`` NO_PROXY rules (x/net/http/httpproxy ``useProxy``), inverted: True means go direct."""
    ip = _ip(host)
    for entry in no_proxy.split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip is not None and ip.version == network.version and ip in network:
                return True
            continue
        split = _split_host_port(entry)
        if split is not None:
            entry_host, entry_port = split
            if not entry_host:
                continue
        else:
            entry_host, entry_port = entry, ""
        entry_ip = _ip(entry_host)
        if entry_ip is not None:
            if ip is not None and ip == entry_ip and entry_port in ("", port):
                return True
            continue
        if entry_host.startswith("*."):
            entry_host = entry_host[1:]
        match_host = not entry_host.startswith(".")
        if match_host:
            entry_host = "." + entry_host
        if ip is None and (host.endswith(entry_host) or match_host and host == entry_host[1:]):
            if entry_port in ("", port):
                return True
    return False


def proxy_for_url(url, environ=None):
    """The proxy that Go's ``http.ProxyFromEnvironment`` (the Ollama CLI's choice) uses for ``url``, or None.

    ``HTTPS_PROXY``/``https_proxy`` for https and ``HTTP_PROXY``/``http_proxy`` for http URLs; ``localhost`` and
    loopback addresses always go direct; ``NO_PROXY``/``no_proxy`` entries (``*``, IPs, CIDRs, domains matching
    themselves and their subdomains, ``.domain`` matching subdomains only, optional ``:port``) go direct.
    """
    environ = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        proxy = _env_any(environ, "HTTPS_PROXY", "https_proxy")
    elif scheme == "http":
        proxy = _env_any(environ, "HTTP_PROXY", "http_proxy")
    else:
        return None
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    try:
        port = str(parts.port or (443 if scheme == "https" else 80))
    except ValueError:
        port = ""
    if host == "localhost":
        return None
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return None
    if _no_proxy_matches(host, port, _env_any(environ, "NO_PROXY", "no_proxy")):
        return None
    return proxy


# ----------------------------------------------------------------------------------------------- TLS context

def _open_takes_context():
    try:
        return "context" in inspect.signature(Request.open).parameters
    except (TypeError, ValueError):  # pragma: no cover - a Request.open without a signature
        return False


_OPEN_TAKES_CONTEXT = _open_takes_context()
_TLS_CONTEXTS = {}
_TLS_CONTEXTS_LOCK = threading.Lock()


def shared_tls_context(validate_certs=True, ca_path=None, client_cert=None, client_key=None):
    """The TLS context ``Request.open`` would build for these settings, built once per module run; or None.

    ``Request.open`` builds a new context for every request, even for ``http://`` URLs, and building one loads
    the system CA bundle: tens of milliseconds of CPU under the GIL, which made twenty manifest requests cost
    seconds however many threads sent them. ansible-core 2.17 and later take a ``context``; with 2.16 (no such
    parameter) this returns None and every request builds its own, as before. Settings that fail to load
    (a missing CA file, a bad client key) also give None, so ``Request.open`` reports them as it always did.
    """
    if not _OPEN_TAKES_CONTEXT:
        return None
    key = (bool(validate_certs), ca_path, client_cert, client_key)
    with _TLS_CONTEXTS_LOCK:
        if key not in _TLS_CONTEXTS:
            try:
                _TLS_CONTEXTS[key] = make_context(cafile=ca_path, validate_certs=validate_certs,
                                                  client_cert=client_cert, client_key=client_key)
            except (OSError, ValueError, TypeError):
                return None
        return _TLS_CONTEXTS[key]


def _context_kwargs(context):
    return {"context": context} if context is not None else {}


# ---------------------------------------------------------------------------------------------- time bounds

class _TimeUp(Exception):
    """Raised from SIGALRM inside a blocking socket call whose deadline passed (see _TimeLimit)."""


class _TimeLimit:
    """Interrupt the blocking socket calls inside ``with`` after ``seconds``, where that is possible.

    A socket timeout bounds each ``recv`` only: a server or proxy that sends one byte a second (in the headers or
    the body) never trips it. In the main thread of a POSIX process (how Ansible runs a module) a one-shot
    ``ITIMER_REAL`` turns the deadline into a hard bound; the handler and any timer are restored on exit, and
    nothing is armed when another timer is already running. Elsewhere the callers' clock checks between reads
    bound the time to the deadline plus one socket timeout.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.previous = None
        self.armed = False

    def _on_alarm(self, signum, frame):
        if self.armed:
            raise _TimeUp()

    def __enter__(self):
        if self.seconds is None or not hasattr(signal, "setitimer"):
            return self
        if threading.current_thread() is not threading.main_thread():
            return self
        if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
            return self
        if self.seconds <= 0:
            raise _TimeUp()
        self.previous = signal.signal(signal.SIGALRM, self._on_alarm)
        self.armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc_info):
        if self.previous is None and not self.armed:
            return False
        try:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, self.previous if self.previous is not None else signal.SIG_DFL)
        return False


def _read_some(fp, size):
    """Up to ``size`` bytes with at most one blocking read (so the caller can look at the clock in between)."""
    read1 = getattr(fp, "read1", None)
    if read1 is not None:
        return read1(size)
    return fp.read(size)


def _read_bounded(fp, limit, deadline, clock):
    """The whole body of ``fp``, at most ``limit`` bytes, by ``deadline``; raises _TimeUp or _TooLarge."""
    data = bytearray()
    while True:
        with _TimeLimit(deadline - clock()):
            chunk = _read_some(fp, _READ_CHUNK)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise _TooLarge(limit)
        if clock() >= deadline:
            raise _TimeUp()


class _TooLarge(Exception):
    def __init__(self, limit):
        super().__init__(f"the answer is larger than {limit // 1024} KiB")
        self.limit = limit


class _LineReader:
    """NDJSON lines of ``fp``, each at most ``limit`` bytes, read with at most one blocking read per call."""

    def __init__(self, fp, limit=MAX_LINE_BYTES):
        self.fp = fp
        self.limit = limit
        self.buffer = bytearray()
        self.eof = False

    def line(self):
        """The next line without its newline (b"" for a blank line), None when ``fill()`` must read more first.

        Raises EOFError at the end of the stream and _TooLarge for a line over the limit.
        """
        index = self.buffer.find(b"\n")
        if index > self.limit:
            raise _TooLarge(self.limit)
        if index >= 0:
            line = bytes(self.buffer[:index])
            del self.buffer[:index + 1]
            return line
        if len(self.buffer) > self.limit:
            raise _TooLarge(self.limit)
        if self.eof:
            if self.buffer:
                line = bytes(self.buffer)
                self.buffer = bytearray()
                return line
            raise EOFError()
        return None

    def fill(self):
        """One blocking read into the buffer; returns the number of bytes read (0 at the end of the stream)."""
        chunk = _read_some(self.fp, _READ_CHUNK)
        if not chunk:
            self.eof = True
            return 0
        self.buffer += chunk
        return len(chunk)


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


def url_credentials(value):
    """The secret parts of ``user:password@`` in an ``url`` value (to mask them in everything a module returns)."""
    text = (value or "").strip().strip("\"'") if isinstance(value, str) else ""
    authority = text.split("://", 1)[-1].split("/", 1)[0]
    if "@" not in authority:
        return []
    userinfo = authority.rpartition("@")[0]
    secrets = [userinfo]
    password = userinfo.partition(":")[2]
    if len(password) >= 4:  # shorter strings would be masked everywhere in the output
        secrets.append(password)
    return secrets


def _is_wildcard(host):
    """True for an address that means "every interface" (``0.0.0.0``, ``::``)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def normalize_url(value, listen=False):
    """Turn an ``OLLAMA_HOST``-style value into a base URL, the way the Ollama CLI reads it.

    ``host``, ``host:port``, ``[v6]:port`` and ``scheme://host[:port][/path]`` are accepted. A missing port is
    11434, except 80 for ``http://`` and 443 for ``https://``; an empty value is ``http://127.0.0.1:11434``.
    With ``listen``, ``value`` is where the server listens (its own ``OLLAMA_HOST``): a wildcard address
    (``0.0.0.0``, ``::``) becomes ``127.0.0.1``, the address a client on the same host connects to.
    """
    text = (value or "").strip().strip("\"'")
    if not text:
        return DEFAULT_URL
    authority = text.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority:
        # Never repeat the value: it holds a password.
        raise ValueError("url must not contain credentials (user:password@host): they are not used and would be "
                         "shown in messages and results; send a token with api_key or a header with headers")
    bad = _URL_BAD.search(text)
    if bad:
        raise ValueError(f"url {value!r} contains {_describe_char(bad.group())} at character {bad.start() + 1}")
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
    if listen and _is_wildcard(host):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    base = f"{scheme}://{host}:{int(port)}"
    if path.strip("/"):
        base += "/" + path.strip("/")
    return base


def _server_error_text(body):
    """The ``error`` of an Ollama JSON error body, else the body itself, quotable (bounded, no control chars)."""
    text = to_text(body or b"", errors="surrogate_or_replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return quote_server_text(text, 500)
    if isinstance(data, dict) and "error" in data:
        return quote_server_text(data["error"])
    return quote_server_text(text, 500)


def _read_error_body(exc, deadline, clock):
    """The bounded text of an HTTPError's body ("" when it cannot be read in time)."""
    try:
        return _server_error_text(_read_bounded(exc, MAX_ERROR_BODY_BYTES, deadline, clock))
    except _TooLarge:
        return ""
    except Exception:  # the body of an error may be unreadable; the status still says enough
        return ""


def _redirect_text(exc):
    location = (exc.headers or {}).get("Location") if getattr(exc, "headers", None) is not None else None
    return quote_server_text(mask_userinfo(location), 300) if location else "(no Location)"


def _reason(exc):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.timeout) or isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    text = to_text(getattr(reason, "strerror", None) or reason)
    return quote_server_text(text, 500) or exc.__class__.__name__


_PLAIN_HTTP_SIGNS = ("server gave http response to https client", "wrong version number", "record layer failure",
                     "packet length too long", "http request")


def plain_http_hint(text, insecure):
    """A hint to set ``insecure`` when ``text`` shows that an https request met a plain-http registry."""
    if insecure or not text:
        return ""
    lowered = text.lower()
    if any(sign in lowered for sign in _PLAIN_HTTP_SIGNS):
        return ("; the registry answered in plain HTTP to an HTTPS request: if it serves plain http, set "
                "insecure: true")
    return ""


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
            name = clean_header_name(key)
            self._headers[name] = clean_header_value(f"headers[{name!r}]", val)
        if api_key:
            self._headers["Authorization"] = "Bearer " + clean_header_value("api_key", api_key)
        self.proxy = proxy_for_url(self.base_url)
        self._tls = (validate_certs, ca_path, client_cert, client_key)
        # Credentials go to base_url and nowhere else: no redirect is followed (the Ollama API never redirects),
        # no ~/.netrc entry replaces the configured Authorization, proxies are Go's choice (loopback is direct).
        self._request = Request(
            validate_certs=validate_certs,
            ca_path=ca_path,
            client_cert=client_cert,
            client_key=client_key,
            http_agent=USER_AGENT,
            follow_redirects="none",
            use_proxy=self.proxy is not None,
            use_netrc=False,
        )

    # ------------------------------------------------------------------------------------------ transport

    def _open(self, method, path, body, timeout):
        data = None
        headers = dict(self._headers)
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return self._request.open(method, self.base_url + path, data=data, headers=headers, timeout=timeout,
                                  **_context_kwargs(shared_tls_context(*self._tls)))

    def _fail(self, cls, method, path, what, status=None, server_error=None):
        url = self.base_url
        # Through a proxy, an answer or a failure may be the proxy's own: say so, so Ollama is not blamed for it.
        if status is None:
            via = f" through the proxy {mask_userinfo(self.proxy)}" if self.proxy else ""
            message = f"Cannot reach Ollama at {url}{via} ({method} {path}): {what}"
        else:
            via = f" (through the proxy {mask_userinfo(self.proxy)})" if self.proxy else ""
            message = f"Ollama at {url}{via} answered HTTP {status} to {method} {path}: {what}"
        return cls(message, url=url, method=method, path=path, status=status, server_error=server_error)

    def _call(self, method, path, body, timeout, idempotent, deadline_of=None):
        """Open a request, retrying connection failures of idempotent calls; return the response.

        Each attempt must have its answer's headers within ``timeout`` seconds in all (not per byte); the
        deadline of the last attempt is stored in ``deadline_of`` (a dict) for reading the body.
        """
        attempt = 0
        while True:
            deadline = self._clock() + timeout
            if deadline_of is not None:
                deadline_of["deadline"] = deadline
            try:
                with _TimeLimit(timeout):
                    return self._open(method, path, body, timeout)
            except HTTPError as exc:
                if 300 <= exc.code < 400:
                    exc.close()
                    raise self._fail(OllamaError, method, path,
                                     f"a redirect to {_redirect_text(exc)}, not followed: the Ollama API does not "
                                     f"redirect, so url must be the address that answers itself (api_key and "
                                     f"headers are sent to url only)", status=exc.code)
                text = _read_error_body(exc, deadline, self._clock)
                if idempotent and exc.code in (502, 503, 504) and attempt < self.retries:
                    attempt += 1
                    self._sleep(backoff_delay(self.backoff, attempt))
                    continue
                raise self._fail(OllamaError, method, path, text or exc.reason, status=exc.code, server_error=text)
            except _TimeUp:
                raise self._fail(OllamaTimeoutError, method, path,
                                 f"timed out: no complete answer within {timeout:g} seconds")
            except (ValueError, UnicodeError):
                # http.client refuses a header or URL it cannot send and quotes it: never show that text (the
                # options are checked before any request, so this is a last line of defence).
                raise self._fail(OllamaError, method, path,
                                 "the request could not be built: a header or the url holds a character HTTP "
                                 "cannot carry (not shown)")
            except (URLError, socket.timeout, ConnectionError, HTTPException, OSError) as exc:
                if getattr(exc, "__class__", None).__name__ in ("SSLValidationError", "SSLCertVerificationError"):
                    raise self._fail(OllamaConnectionError, method, path, f"TLS error: {_reason(exc)}")
                if idempotent and attempt < self.retries and not isinstance(getattr(exc, "reason", None), socket.timeout):
                    attempt += 1
                    self._sleep(backoff_delay(self.backoff, attempt))
                    continue
                raise self._fail(OllamaConnectionError, method, path, _reason(exc))

    def request(self, method, path, body=None, timeout=None, idempotent=None):
        """One JSON request. Returns the decoded body, or None for an empty body (delete and copy answer so).

        The whole exchange, from connecting to the last byte of the answer, is bounded by ``timeout`` (default:
        the client's); an answer over MAX_BODY_BYTES is refused.
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD")
        timeout = timeout or self.timeout
        holder = {}
        response = self._call(method, path, body, timeout, idempotent, deadline_of=holder)
        try:
            raw = _read_bounded(response, MAX_BODY_BYTES, holder["deadline"], self._clock)
        except _TimeUp:
            raise self._fail(OllamaTimeoutError, method, path,
                             f"timed out: no complete answer within {timeout:g} seconds; the server or a proxy "
                             f"sends too slowly")
        except _TooLarge as exc:
            raise self._fail(OllamaError, method, path, f"{exc}, refused", status=response.status)
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
            raise self._fail(OllamaError, method, path,
                             f"the answer is not JSON: {quote_server_text(repr(text[:200]))}", status=200)
        if isinstance(data, dict) and data.get("error"):
            error = quote_server_text(data["error"])
            raise self._fail(OllamaError, method, path, error, status=200, server_error=error)
        return data

    def stream(self, method, path, body, stall_timeout=300.0, progress_key=None, final_status="success",
               action=None, hint=None):
        """Yield the JSON objects of an NDJSON stream, one per line, as they arrive.

        Raises OllamaError for an ``{"error": ...}`` line even inside HTTP 200 (naming ``action``, e.g.
        ``pull gemma3``, and adding ``hint(error_text)``), OllamaConnectionError when the stream ends before a
        line with ``status == final_status`` (pull, push and create end with ``success``; a dropped connection
        can look like a clean end of stream), and OllamaStallError when no progress was seen for
        ``stall_timeout`` seconds. Progress is a change of ``progress_key(line)`` (default: the whole line): bytes
        that never complete a line, blank lines and repeated lines are not progress. Lines over MAX_LINE_BYTES
        are refused.
        """
        try:
            response = self._call(method, path, body, stall_timeout, idempotent=False)
        except OllamaTimeoutError:
            raise self._fail(OllamaStallError, method, path,
                             f"no answer for {stall_timeout:g} seconds (stall_timeout)")
        key = progress_key or (lambda item: json.dumps(item, sort_keys=True))
        reader = _LineReader(response)
        last_key = None
        last_status = None
        last_progress = self._clock()
        received = 0  # bytes since the last progress

        def stalled():
            if not received:
                what = f"no data for {stall_timeout:g} seconds (stall_timeout)"
            else:
                what = (f"no progress for {stall_timeout:g} seconds (stall_timeout): {received} bytes arrived, but "
                        f"no new status and no layer advanced")
            return self._fail(OllamaStallError, method, path, f"{what}; last status: {last_status or 'none'}")

        try:
            while True:
                try:
                    raw = reader.line()
                    if raw is None:
                        with _TimeLimit(last_progress + stall_timeout - self._clock()):
                            received += reader.fill()
                        if self._clock() - last_progress > stall_timeout:
                            raise stalled()
                        continue
                except EOFError:
                    if final_status is not None and last_status != final_status:
                        raise self._fail(OllamaConnectionError, method, path,
                                         f"the stream broke before Ollama reported {final_status!r} "
                                         f"(last status: {last_status or 'none'})")
                    return
                except (_TimeUp, socket.timeout):
                    raise stalled()
                except _TooLarge as exc:
                    raise self._fail(OllamaError, method, path,
                                     f"a line of the stream is longer than {exc.limit // 1024} KiB, refused",
                                     status=200)
                except (OSError, HTTPException) as exc:
                    raise self._fail(OllamaConnectionError, method, path,
                                     f"the stream broke: {_reason(exc)}")
                line = to_text(raw, errors="surrogate_or_replace").strip()
                if self._clock() - last_progress > stall_timeout:
                    raise stalled()
                if not line:
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    item = None
                if not isinstance(item, dict):
                    raise self._fail(OllamaError, method, path,
                                     f"malformed line in the stream: {quote_server_text(repr(line[:200]))}",
                                     status=200)
                if "error" in item:
                    error = quote_server_text(item["error"])
                    extra = hint(error) if hint else ""
                    if action:
                        message = f"Ollama at {self.base_url} could not {action} ({method} {path}): {error}{extra}"
                    else:
                        message = f"Ollama at {self.base_url} reported an error in {method} {path}: {error}{extra}"
                    raise OllamaError(message, url=self.base_url, method=method, path=path, status=200,
                                      server_error=error)
                if item.get("status"):
                    last_status = quote_server_text(item["status"], 200)
                current = key(item)
                if current != last_key:
                    last_key = current
                    last_progress = self._clock()
                    received = 0
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

    def delete(self, model, missing_ok=False):
        """``DELETE /api/delete``. With ``missing_ok`` a 404 (deleted by someone else meanwhile) returns False."""
        try:
            self.request("DELETE", "/api/delete", {"model": model})
        except OllamaError as exc:
            if missing_ok and exc.status == 404:
                return False
            raise
        return True

    def has_blob(self, digest):
        """Whether the server has the blob ``sha256:<hex>`` (``HEAD /api/blobs/:digest``: 200 or 404)."""
        try:
            self.request("HEAD", f"/api/blobs/{digest}")
        except OllamaError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def upload_blob(self, digest, fileobj, size, stall_timeout=300.0):
        """``POST /api/blobs/:digest`` with ``size`` bytes read from ``fileobj``; the server checks the digest.

        Not retried (the caller's file position moved). Each socket operation is bounded by ``stall_timeout``;
        the whole upload is not (it lasts as long as the blob needs).
        """
        path = f"/api/blobs/{digest}"
        headers = dict(self._headers)
        headers.update({"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        try:
            response = self._request.open("POST", self.base_url + path, data=fileobj, headers=headers,
                                          timeout=stall_timeout, **_context_kwargs(shared_tls_context(*self._tls)))
            response.read(MAX_ERROR_BODY_BYTES)
            response.close()
        except HTTPError as exc:
            text = _read_error_body(exc, self._clock() + self.timeout, self._clock)
            raise self._fail(OllamaError, "POST", path, text or exc.reason, status=exc.code, server_error=text)
        except (URLError, socket.timeout, ConnectionError, HTTPException, OSError) as exc:
            raise self._fail(OllamaConnectionError, "POST", path, _reason(exc))

    def copy(self, source, destination):
        self.request("POST", "/api/copy", {"source": source, "destination": destination})

    def pull(self, model, insecure=False, stall_timeout=300.0):
        """Stream ``/api/pull``; yields progress lines. A pull is safe to repeat: the server resumes blobs.

        Progress is a new status or a layer's ``completed`` changing; Ollama repeats the last line every 60 ms
        while no byte arrives, which is not progress.
        """
        body = {"model": model, "stream": True}
        if insecure:
            body["insecure"] = True
        return self.stream("POST", "/api/pull", body, stall_timeout=stall_timeout,
                           progress_key=lambda item: (item.get("status"), item.get("digest"), item.get("completed")),
                           action=f"pull {quote_server_text(model, 300)}",
                           hint=lambda text: plain_http_hint(text, insecure))

    def create(self, body, stall_timeout=300.0):
        body = dict(body, stream=True)
        return self.stream("POST", "/api/create", body, stall_timeout=stall_timeout,
                           progress_key=lambda item: (item.get("status"), item.get("completed")),
                           action=f"create {quote_server_text(body.get('model'), 300)}")

    def generate(self, body, timeout=None):
        return self.request("POST", "/api/generate", dict(body, stream=False), timeout=timeout)

    def embed(self, body, timeout=None):
        return self.request("POST", "/api/embed", body, timeout=timeout)


# ---------------------------------------------------------------------------------------------- pulls and registry

class PullStats:
    """What one (possibly retried) pull transferred.

    Exact when the blobs of the manifest are known before the pull (``plan()``: the registry's manifest, and
    ``HEAD /api/blobs`` for each blob): ``bytes`` is what the server did not have. Otherwise it is counted from the
    progress lines, where a blob that was already present sends exactly one line with ``completed == total``
    (server/download.go, downloadBlob) -- but so may a tiny blob downloaded within one 60 ms progress tick, and
    from v0.32.2 such a blob sends no line at all; ``counted_from`` says which way the figures were made.
    """

    def __init__(self):
        self.layers = {}          # digest -> [total, cached]
        self.planned = None       # digest -> [size, present] from the manifest, when known
        self.entry = None         # the /api/tags entry of the model after the pull (verify_pulled)
        self.progress_lines = 0
        self.attempts = 0
        self.seconds = 0.0
        self.statuses = []

    def plan(self, blobs, present):
        """The manifest's blobs (``{digest: size}``) and the digests the server already had."""
        self.planned = {digest: [size, digest in present] for digest, size in blobs.items()}

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
        layers = self.planned if self.planned is not None else self.layers
        return {
            "bytes": sum(total for total, cached in layers.values() if not cached),
            "bytes_total": sum(total for total, cached in layers.values()),
            "layers": len(layers),
            "layers_cached": sum(1 for total, cached in layers.values() if cached),
            "counted_from": "manifest" if self.planned is not None else "progress",
            "seconds": round(self.seconds, 3),
            "attempts": self.attempts,
            "progress_lines": self.progress_lines,
        }


def _retryable(exc):
    """Transport failures between us and Ollama, stalls and 5xx before the stream: a repeated pull resumes."""
    if isinstance(exc, (OllamaConnectionError, OllamaStallError)):
        return True
    return exc.status is not None and exc.status >= 500 and exc.status != 200


def verify_pulled(client, model):
    """The ``/api/tags`` entry of ``model`` after Ollama reported its pull as successful.

    A ``success`` line is not proof (a proxy or another server can send it, a manifest can fail to land): raise
    OllamaError when the server does not list the model.
    """
    try:
        key = parse_name(model).key
    except ValueError:
        return None  # a name Ollama accepted but our parser does not: nothing to compare against
    entry = index_tags(client.tags()).get(key)
    if entry is None:
        raise OllamaError(f"Ollama at {client.base_url} reported the pull of {quote_server_text(model, 300)} as "
                          f"successful, but GET /api/tags does not list it", url=client.base_url, method="GET",
                          path="/api/tags", status=200)
    return entry


def pull_with_retries(client, model, insecure=False, stall_timeout=300.0, retries=3, backoff=2.0, sleep=None,
                      clock=None, stats=None, progress=None):
    """Pull ``model`` to the end of its stream, retrying broken connections, stalls and 5xx with backoff, then
    check that the server lists it (verify_pulled).

    Error lines inside the stream (a missing model, an unauthorized registry) are not retried: the server
    already retried what it could. Returns a PullStats; raises the last OllamaError when every attempt failed.
    ``progress`` (a _progress.Operation) is told every line and every retry.
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
                    if progress is not None:
                        progress.see(item, attempt)
                break
            except OllamaError as exc:
                if attempt > retries or not _retryable(exc):
                    if attempt > 1:
                        exc.args = (f"{exc} (after {attempt} attempts)",)
                    raise
                if progress is not None:
                    progress.retrying(attempt + 1, backoff_delay(backoff, attempt), exc)
                sleep(backoff_delay(backoff, attempt))
    finally:
        stats.seconds = clock() - started
    stats.entry = verify_pulled(client, model)
    return stats


class RegistryError(OllamaError):
    """The model's registry could not tell us its manifest digest."""


MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def registry_manifest_url(name, insecure=False):
    """The URL Ollama itself fetches the manifest of ``name`` (a ModelName) from."""
    scheme = "http" if insecure else "https"
    return f"{scheme}://{name.host}/v2/{name.namespace}/{name.model}/manifests/{name.tag}"


def _origin(url):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def manifest_blobs(manifest):
    """``{digest: size}`` of every blob a manifest references (its layers and its config)."""
    blobs = {}
    for item in list((manifest or {}).get("layers") or []) + [(manifest or {}).get("config") or {}]:
        if isinstance(item, dict) and isinstance(item.get("digest"), str) and isinstance(item.get("size"), int):
            blobs[item["digest"]] = item["size"]
    return blobs


def registry_manifest(name, insecure=False, timeout=30.0, validate_certs=True, opener=None, headers=None,
                      clock=time.monotonic):
    """``(sha256:<hex>, manifest dict)`` of the manifest the registry serves for ``name``, as Ollama would store it.

    Ollama stores the manifest byte for byte, so the digest equals the ``/api/tags`` digest after a pull.
    Raises RegistryError (``status`` 404 for a model the registry does not have, 401/403 when it wants
    credentials, None when it cannot be reached). The whole exchange is bounded by ``timeout``.

    Redirects are followed by hand, at most MAX_REDIRECTS: never from https to http (or to another scheme), and
    ``Authorization``/``Cookie`` headers (from ``headers``) only to the same scheme, host and port.
    """
    digest, manifest, dummy = registry_manifest_bytes(name, insecure, timeout, validate_certs, opener, headers,
                                                      clock)
    return digest, manifest


def registry_manifest_bytes(name, insecure=False, timeout=30.0, validate_certs=True, opener=None, headers=None,
                            clock=time.monotonic):
    """``(sha256:<hex>, manifest dict or None, the manifest's bytes as served)``; see registry_manifest."""
    sent = {"Accept": MANIFEST_MEDIA_TYPE}
    sent.update(headers or {})
    deadline = clock() + timeout
    response, first, url = _registry_open(registry_manifest_url(name, insecure), sent, insecure, timeout, deadline,
                                          validate_certs, opener, clock)
    what = f"GET {url}"
    try:
        try:
            body = _read_bounded(response, MAX_BODY_BYTES, deadline, clock)
        finally:
            response.close()
    except _TimeUp:
        raise RegistryError(f"The registry gave no complete answer to {what} within {timeout:g} seconds "
                            f"(timeout)", url=first, method="GET", path=url)
    except _TooLarge as exc:
        raise RegistryError(f"The registry's answer to {what} is too large: {exc}", url=first, method="GET",
                            path=url)
    except (socket.timeout, OSError, HTTPException) as exc:
        raise RegistryError(f"Reading the registry's answer to {what} failed: {_reason(exc)}", url=first,
                            method="GET", path=url)
    try:
        manifest = json.loads(to_text(body, errors="surrogate_or_replace"))
    except ValueError:
        manifest = None
    return "sha256:" + hashlib.sha256(body).hexdigest(), manifest if isinstance(manifest, dict) else None, body


def registry_blob_url(name, digest, insecure=False):
    """The URL Ollama itself downloads blob ``digest`` of ``name`` (a ModelName) from."""
    scheme = "http" if insecure else "https"
    return f"{scheme}://{name.host}/v2/{name.namespace}/{name.model}/blobs/{digest}"


def registry_blob(name, digest, insecure=False, timeout=30.0, validate_certs=True, opener=None, clock=time.monotonic):
    """``(response, url)``: the open answer to the registry's blob GET, for the caller to read and close.

    Redirects (a registry sends blob GETs to its storage) are followed under the rules of registry_manifest;
    the answer's headers must arrive within ``timeout``; each read of the body is bounded by ``timeout`` too.
    """
    deadline = clock() + timeout
    response, dummy, url = _registry_open(registry_blob_url(name, digest, insecure), {}, insecure, timeout,
                                          deadline, validate_certs, opener, clock)
    return response, url


def _registry_open(url, sent, insecure, timeout, deadline, validate_certs, opener, clock):
    """``(response, first url, final url)`` of a registry GET, redirects followed by hand (see registry_manifest)."""
    first = url
    for dummy in range(MAX_REDIRECTS + 1):
        proxy = proxy_for_url(url)
        request = opener or Request(validate_certs=validate_certs, http_agent=USER_AGENT, follow_redirects="none",
                                    use_proxy=proxy is not None, use_netrc=False)
        extra = {} if opener else _context_kwargs(shared_tls_context(validate_certs))
        what = f"GET {url}"
        try:
            with _TimeLimit(deadline - clock()):
                response = request.open("GET", url, headers=sent, timeout=max(deadline - clock(), 0.001), **extra)
            return response, first, url
        except HTTPError as exc:
            if 300 <= exc.code < 400 and exc.headers is not None and exc.headers.get("Location"):
                target = urljoin(url, exc.headers.get("Location"))
                exc.close()
                here, there = _origin(url), _origin(target)
                if there[0] not in ("http", "https") or here[0] == "https" and there[0] != "https":
                    raise RegistryError(f"The registry redirected {what} to "
                                        f"{quote_server_text(mask_userinfo(target), 300)}: refused (a redirect may "
                                        f"not leave https, nor http(s))", url=first, method="GET", path=url,
                                        status=exc.code)
                if there != here:
                    sent = {key: val for key, val in sent.items()
                            if key.lower() not in ("authorization", "cookie", "proxy-authorization")}
                url = target
                continue
            text = _read_error_body(exc, deadline, clock)
            raise RegistryError(f"Registry answered HTTP {exc.code} to {what}: {text or exc.reason}", url=first,
                                method="GET", path=url, status=exc.code, server_error=text)
        except _TimeUp:
            raise RegistryError(f"The registry gave no complete answer to {what} within {timeout:g} seconds "
                                f"(timeout)", url=first, method="GET", path=url)
        except (URLError, socket.timeout, ConnectionError, HTTPException, OSError) as exc:
            reason = _reason(exc)
            raise RegistryError(f"Cannot reach the registry ({what}): {reason}{plain_http_hint(reason, insecure)}",
                                url=first, method="GET", path=url)
    raise RegistryError(f"The registry redirected GET {first} more than {MAX_REDIRECTS} times", url=first,
                        method="GET", path=url)
