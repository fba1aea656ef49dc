"""A tiny HTTP client (never through a proxy) and waiting for a server to answer."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from riglib.output import die


def http_request(url: str, method: str = "GET", body=None, headers=None, timeout: float = 30.0):
    """Return (status, headers(dict, lower-case), body bytes). Never uses proxies."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def http_stream(url: str, payload: dict, timeout: float = 600.0):
    """POST JSON and yield decoded NDJSON objects. Raises RigError on HTTP errors or error lines."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", u.path, body=json.dumps(payload).encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            die(f"POST {u.path} {payload.get('model')}: HTTP {resp.status}: {resp.read()[:500]!r}")
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            obj = json.loads(line)
            if "error" in obj:
                die(f"POST {u.path} {payload.get('model')}: {obj['error']}")
            yield obj
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, logfile: Path | None = None,
              ok=(200,)) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = logfile.read_text(errors="replace")[-2000:] if logfile and logfile.exists() else ""
            die(f"process for {url} exited with {proc.returncode}; log {logfile}:\n{tail}")
        try:
            st, _hdrs, _body = http_request(url, timeout=2)
            if st in ok:
                return
            last = f"HTTP {st}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    die(f"timeout waiting for {url}: {last}")
