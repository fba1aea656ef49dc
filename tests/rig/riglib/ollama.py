"""Starting an ``ollama serve`` and the few API calls the rig makes to it."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import release_mirror  # tests/rig/release_mirror.py
from riglib.net import http_request, http_stream, wait_http
from riglib.output import die
from riglib.procs import base_env, start_daemon


def ollama_env(port: int, models: Path, home: Path) -> dict:
    env = base_env()
    env.update({
        "OLLAMA_HOST": f"127.0.0.1:{port}",
        "OLLAMA_MODELS": str(models),
        "HOME": str(home),
    })
    return env


def start_ollama(binpath: Path, port: int, models: Path, home: Path, logfile: Path,
                 pidfile: Path | None) -> subprocess.Popen:
    models.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    proc = start_daemon("ollama", [str(binpath), "serve"], ollama_env(port, models, home), logfile, pidfile)
    wait_http(f"http://127.0.0.1:{port}/api/version", 60, proc, logfile)
    return proc


def api_version(url: str) -> str:
    st, _hdrs, body = http_request(f"{url}/api/version", timeout=5)
    if st != 200:
        die(f"GET {url}/api/version: HTTP {st}")
    return json.loads(body)["version"]


def api_tags(url: str) -> dict:
    st, _hdrs, body = http_request(f"{url}/api/tags", timeout=10)
    if st != 200:
        die(f"GET {url}/api/tags: HTTP {st}")
    return {m["name"]: m for m in json.loads(body).get("models", [])}


def api_show_caps(url: str, model: str) -> list[str]:
    st, _hdrs, body = http_request(f"{url}/api/show", "POST", {"model": model}, timeout=60)
    if st != 200:
        die(f"POST /api/show {model}: HTTP {st} {body[:300]!r}")
    return json.loads(body).get("capabilities") or []


def upload_blob(url: str, path: Path) -> str:
    digest = "sha256:" + release_mirror.sha256_file(path)
    st, _hdrs, _body = http_request(f"{url}/api/blobs/{digest}", "HEAD")
    if st == 200:
        return digest
    size = path.stat().st_size
    with open(path, "rb") as f:
        st, _hdrs, body = http_request(f"{url}/api/blobs/{digest}", "POST", body=f,
                                       headers={"Content-Length": str(size),
                                                "Content-Type": "application/octet-stream"}, timeout=600)
    if st not in (200, 201):
        die(f"POST /api/blobs/{digest} ({path}): HTTP {st} {body[:300]!r}")
    return digest


def run_stream(url: str, endpoint: str, payload: dict, label: str) -> list[dict]:
    lines = list(http_stream(f"{url}{endpoint}", payload, timeout=1800))
    if not lines or lines[-1].get("status") != "success":
        die(f"{label}: stream did not end with success: {lines[-3:]}")
    return lines


def pull_and_verify(url: str, name: str, want_digest: str) -> str:
    t0 = time.monotonic()
    n = 0
    totals: dict[str, int] = {}
    statuses = []
    for obj in http_stream(f"{url}/api/pull", {"model": name, "insecure": True}, timeout=900):
        n += 1
        if obj.get("digest"):
            totals[obj["digest"]] = obj.get("total", 0)
        if obj.get("status") and not obj.get("digest"):
            statuses.append(obj["status"])
    dt = time.monotonic() - t0
    if not statuses or statuses[-1] != "success":
        die(f"pull {name}: no success line (statuses {statuses})")
    tags = api_tags(url)
    got = tags.get(name, {}).get("digest", "")
    if want_digest and got and want_digest.split(":")[-1] != got.split(":")[-1]:
        die(f"pull {name}: local digest {got} != registry manifest digest {want_digest}")
    size = sum(totals.values())
    return f"{n} progress lines, {len(totals)} blobs, {size / 1e6:.1f} MB, {dt:.1f}s, {size / 1e6 / max(dt, 1e-3):.0f} MB/s"
