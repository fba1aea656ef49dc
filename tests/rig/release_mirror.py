# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A loopback mirror of Ollama's GitHub release downloads, built from the rig's real binaries.

For every ``<cache>/go-bin-<version>/ollama`` it writes ``<root>/v<version>/`` the way upstream's release
workflow (``.github/workflows/release.yaml``, job ``linux-build``, and the ``release`` job's checksum step)
publishes a Linux release, so the role's default URL template works with only the base URL changed:

- ``ollama-linux-amd64.tgz`` (tar | gzip) before 0.14.0, ``ollama-linux-amd64.tar.zst`` (tar | zstd) from
  0.14.0; members ``bin/ollama`` and ``lib/ollama/...`` (the other files next to the rig's binary, e.g.
  ``llama-server`` and ``lib*.so`` of 0.30+ builds), owner and group 0;
- ``ollama-linux-amd64-rocm.<ext>``: the ROCm add-on's layout (``lib/ollama/rocm/`` before 0.30,
  ``lib/ollama/rocm_v7_2/`` from 0.30, as upstream's Dockerfile names it). The rig has no ROCm build: the
  directory holds one text file, so a test proves where an add-on lands, not that ROCm runs;
- ``sha256sum.txt``: ``<hex>  ./<name>`` lines, as ``find . -type f | xargs sha256sum`` writes them.

Upstream compresses with ``zstd -19``/``--ultra -22`` and ``pigz -9``; the mirror uses faster levels (the
format is what the role must handle). The server answers plain GETs and, to prove that downloads honour a
proxy setting, proxy-style requests (``GET http://host/path``), which it logs as ``PROXY <path>``.

Used by rig.py (``ensure``/``stop``); ``release_mirror.py serve`` is the server process.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.parse
from pathlib import Path

ZSTD_SINCE = (0, 14, 0)
ROCM_V_SINCE = (0, 30, 0)
FORMAT = 1  # bump when the layout changes, so cached mirrors are rebuilt
CONFIG_KEYS = ("ollama_release_mirror", "ollama_release_versions", "ollama_release_mirror_log")


def _ver(text: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def versions(cache: Path) -> list[str]:
    found = []
    for d in cache.glob("go-bin-*"):
        binary = d / "ollama"
        if binary.is_file() and os.access(binary, os.X_OK) and re.fullmatch(r"\d+\.\d+\.\d+", d.name[7:]):
            found.append(d.name[7:])
    return sorted(found, key=_ver)


def _add(tar: tarfile.TarFile, src: Path | None, arcname: str, data: bytes | None = None, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = int(time.time())
    if src is None and data is None:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        return
    if src is not None:
        st = src.stat()
        info.size = st.st_size
        info.mode = mode if os.access(src, os.X_OK) else 0o644
        with open(src, "rb") as fh:
            tar.addfile(info, fh)
    else:
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))


def _pack(members: list, dest: Path, version: tuple) -> None:
    """members: (arcname, src path or None for a directory, data bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for arcname, src, data in members:
            _add(tar, src, arcname, data)
    raw = buf.getvalue()
    tmp = dest.with_suffix(dest.suffix + ".part")
    if version >= ZSTD_SINCE:
        with open(tmp, "wb") as out:
            subprocess.run(["zstd", "-q", "-3", "-T0", "-c"], input=raw, stdout=out, check=True)
    else:
        with open(tmp, "wb") as out:
            subprocess.run(["gzip", "-6", "-n", "-c"], input=raw, stdout=out, check=True)
    tmp.replace(dest)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (also rig.py's)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_version(cache: Path, root: Path, version: str, arch: str = "amd64") -> Path:
    """Build <root>/v<version>/ unless it is current (same binary, same FORMAT)."""
    src_dir = cache / f"go-bin-{version}"
    out = root / f"v{version}"
    binary = src_dir / "ollama"
    stamp = {"format": FORMAT, "size": binary.stat().st_size, "mtime": int(binary.stat().st_mtime)}
    stamp_file = out / ".mirror.json"
    if stamp_file.is_file():
        try:
            if json.loads(stamp_file.read_text()) == stamp:
                return out
        except ValueError:
            pass
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    ver = _ver(version)
    ext = "tar.zst" if ver >= ZSTD_SINCE else "tgz"
    # As `tar c -T list` packs upstream's component list: the named files, and directories with their content.
    base = [("bin/ollama", binary, None)]
    extras = sorted(p for p in src_dir.iterdir()
                    if p.is_file() and p.name != "ollama" and not p.name.endswith((".log", ".json", ".txt")))
    base += [(f"lib/ollama/{p.name}", p, None) for p in extras]
    rocm_dir = "lib/ollama/rocm_v7_2" if ver >= ROCM_V_SINCE else "lib/ollama/rocm"
    rocm = [(rocm_dir, None, None),
            (f"{rocm_dir}/README.llmops-rig", None,
             f"llmops rig stand-in for the ROCm add-on of Ollama {version}: layout only, no ROCm libraries\n".encode())]
    names = {f"ollama-linux-{arch}.{ext}": base, f"ollama-linux-{arch}-rocm.{ext}": rocm}
    for name, members in names.items():
        _pack(members, out / name, ver)
    lines = [f"{sha256_file(out / name)}  ./{name}\n" for name in sorted(names)]
    (out / "sha256sum.txt").write_text("".join(lines))
    stamp_file.write_text(json.dumps(stamp) + "\n")
    return out


def build(cache: Path, root: Path) -> list[str]:
    found = versions(cache)
    for version in found:
        build_version(cache, root, version)
    for stale in root.glob("v*"):
        if stale.name[1:] not in found:
            shutil.rmtree(stale, ignore_errors=True)
    return found


# --------------------------------------------------------------------------- server process

class Handler(http.server.SimpleHTTPRequestHandler):
    def _proxied(self) -> None:
        if self.path.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(self.path)
            self.log_message("PROXY %s", parts.path)
            self.path = parts.path + (("?" + parts.query) if parts.query else "")

    def do_GET(self):  # noqa: N802 (http.server API)
        self._proxied()
        super().do_GET()

    def do_HEAD(self):  # noqa: N802
        self._proxied()
        super().do_HEAD()

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        sys.stderr.write(f"{time.strftime('%F %T')} {format % args}\n")
        sys.stderr.flush()


def serve(root: Path, port: int) -> None:
    handler = functools.partial(Handler, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        httpd.serve_forever()


# --------------------------------------------------------------------------- rig.py hooks

def daemon_pid(state: Path, name: str, script: str) -> int | None:
    """The pid in ``<state>/<name>.pid`` when that process still runs ``script`` (a rig daemon: this mirror,
    throttle.py), else None."""
    try:
        pid = int((state / f"{name}.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if script in cmdline else None


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (a rig daemon's health check)."""
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 (loopback)
            return resp.status == 200
    except OSError:
        return False


def stop_daemon(state: Path, name: str, script: str) -> list[str]:
    """Stop the rig daemon ``name`` (its process group) and remove its pid and json files; [name] if it ran."""
    pid = daemon_pid(state, name, script)
    (state / f"{name}.pid").unlink(missing_ok=True)
    (state / f"{name}.json").unlink(missing_ok=True)
    if not pid:
        return []
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return []
    for _attempt in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    return [name]


def ensure(state: Path, cache: Path, free_port) -> dict:
    """Build the mirror for every go-bin-* in the cache and (re)start its server; return the config keys."""
    root = state / "release-mirror"
    root.mkdir(parents=True, exist_ok=True)
    found = build(cache, root)
    info_file = state / "release-mirror.json"
    logfile = state / "release-mirror.log"
    try:
        info = json.loads(info_file.read_text())
    except (OSError, ValueError):
        info = {}
    if not (daemon_pid(state, "release-mirror", "release_mirror.py") and info.get("url") and answers(info["url"] + "/")):
        stop(state)
        port = free_port()
        with open(logfile, "ab") as lf:
            proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve", "--root", str(root),
                                     "--port", str(port)], stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                                    start_new_session=True, close_fds=True)
        (state / "release-mirror.pid").write_text(f"{proc.pid}\n")
        info = {"url": f"http://127.0.0.1:{port}"}
        for _attempt in range(50):
            if answers(info["url"] + "/"):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"release mirror did not answer on {info['url']} (log {logfile})")
        info_file.write_text(json.dumps(info) + "\n")
    return {"ollama_release_mirror": info["url"], "ollama_release_versions": found,
            "ollama_release_mirror_log": str(logfile)}


def stop(state: Path) -> list[str]:
    return stop_daemon(state, "release-mirror", "release_mirror.py")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--root", required=True, type=Path)
    s.add_argument("--port", required=True, type=int)
    b = sub.add_parser("build", help="build the mirror tree from a cache into a directory, print the versions")
    b.add_argument("--cache", default=os.environ.get("LLMOPS_RIG_CACHE") or "/var/cache/llmops-rig", type=Path)
    b.add_argument("--root", required=True, type=Path)
    args = p.parse_args(argv)
    if args.cmd == "serve":
        serve(args.root, args.port)
    else:
        print(" ".join(build(args.cache, args.root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
