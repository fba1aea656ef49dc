"""Building Ollama (``go install``) and, from v0.30.0, its CMake-built llama-server into the cache."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from riglib import config
from riglib.net import free_port
from riglib.output import die, log, step
from riglib.procs import base_env, cache_lock, pid_alive


def ollama_bin_path(args) -> Path:
    if os.environ.get("LLMOPS_OLLAMA_BIN"):
        return Path(os.environ["LLMOPS_OLLAMA_BIN"])
    if getattr(args, "use_path_ollama", False):
        p = shutil.which("ollama")
        if not p:
            die("--use-path-ollama given but no ollama on PATH")
        return Path(p)
    return config.GO_BIN_DIR / "ollama"


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
    header = config.VENDOR_INCLUDE / "miniaudio" / "miniaudio.h"
    if not header.exists():
        dl = config.CACHE / "pypi-src"
        dl.mkdir(parents=True, exist_ok=True)
        if not list(dl.glob("miniaudio-*.tar.gz")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            "-d", str(dl), config.MINIAUDIO_PYPI], check=True)
        import tarfile
        sdist = sorted(dl.glob("miniaudio-*.tar.gz"))[-1]
        with tarfile.open(sdist) as tf:
            member = next(m for m in tf.getmembers() if m.name.endswith("/miniaudio/miniaudio.h"))
            header.parent.mkdir(parents=True, exist_ok=True)
            with tf.extractfile(member) as src, open(header, "wb") as dst:
                shutil.copyfileobj(src, dst)


def go_install_running() -> list[int]:
    r = subprocess.run(["pgrep", "-f", f"go install .*{config.OLLAMA_MODULE}@v{config.OLLAMA_VERSION}"],
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
                log(f"a go install of ollama v{config.OLLAMA_VERSION} is already running (pids {running}); waiting")
                logs = [config.CACHE / "go-build.log", config.LOG_DIR / "go-build.log", config.build_log()]
                logfile = max((p for p in logs if p.exists()), key=lambda p: p.stat().st_mtime, default=logs[0])
                heartbeat_wait(running, logfile, t0)
            with build_lock():
                if build_complete():
                    s.note = "cached"
                else:
                    build_into_cache(t0)
                    s.note = f"built in {time.monotonic() - t0:.0f}s"
        ver = binary_version(binpath)
        if ver != config.OLLAMA_VERSION:
            msg = f"{binpath} reports version {ver!r}, expected {config.OLLAMA_VERSION}"
            if os.environ.get("LLMOPS_OLLAMA_BIN") or getattr(args, "use_path_ollama", False):
                log("WARNING: " + msg)
            else:
                die(msg)
        s.note += f", version {ver}"
    return binpath


def build_complete(d: Path | None = None) -> bool:
    """A cache directory is used only when complete.  The build writes into a temporary directory and renames
    it into place, so a half build is never found here."""
    d = d or config.GO_BIN_DIR
    if not (d / "ollama").is_file():
        return False
    return not config.needs_llama_server() or (d / "llama-server").is_file()


def build_lock() -> cache_lock:
    """One builder per version: building v0.34.4 (about 15-30 min) must not hold up rigs of other versions."""
    return cache_lock(f".build-{config.OLLAMA_VERSION}.lock", f"another build of ollama v{config.OLLAMA_VERSION}")


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
    """Build ollama v<config.OLLAMA_VERSION> (and from v0.30.0 its llama-server) into a temporary directory next to
    <cache>/go-bin-<version> and rename it into place when everything is there."""
    if config.version_tuple(config.OLLAMA_VERSION) >= config.VENDOR_HEADERS_SINCE:
        ensure_build_deps()
    else:
        missing = [tool for tool in ("gcc", "g++") if not shutil.which(tool)]
        if missing:
            apt_install(missing)
    config.LOG_DIR.mkdir(parents=True, exist_ok=True)
    logfile = config.build_log()
    logfile.write_text("")
    tmp = config.CACHE / f".go-bin-{config.OLLAMA_VERSION}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for old in config.CACHE.glob(f".go-bin-{config.OLLAMA_VERSION}.tmp-*"):  # a build killed earlier (we hold the lock)
        shutil.rmtree(old, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        env = base_env()
        env["GOBIN"] = str(tmp)
        env["CGO_ENABLED"] = "1"
        if config.version_tuple(config.OLLAMA_VERSION) >= config.VENDOR_HEADERS_SINCE:
            env["CGO_CPPFLAGS"] = (env.get("CGO_CPPFLAGS", "") + f" -I{config.VENDOR_INCLUDE}").strip()
        cmd = ["go", "install", "-v", "-ldflags", f"-X {config.OLLAMA_MODULE}/version.Version={config.OLLAMA_VERSION}",
               f"{config.OLLAMA_MODULE}@v{config.OLLAMA_VERSION}"]
        log(f"building ollama v{config.OLLAMA_VERSION} (first run: about 3-10 min on 2 cores): GOBIN={tmp} "
            f"CGO_CPPFLAGS='{env.get('CGO_CPPFLAGS', '')}' {' '.join(cmd)}; log {logfile}")
        run_logged(cmd, logfile, t0, "go install", env=env, cwd=str(config.CACHE))
        if not (tmp / "ollama").is_file():
            die(f"go install left no {tmp / 'ollama'}; log {logfile}")
        recipe = {"version": config.OLLAMA_VERSION, "go_install": " ".join(cmd),
                  "cgo_cppflags": env.get("CGO_CPPFLAGS", "")}
        if config.needs_llama_server():
            recipe.update(build_llama_server(tmp, logfile, t0))
        recipe["seconds"] = round(time.monotonic() - t0)
        (tmp / "build.json").write_text(json.dumps(recipe, indent=2) + "\n")
        if config.GO_BIN_DIR.exists() and not any(config.GO_BIN_DIR.iterdir()):
            config.GO_BIN_DIR.rmdir()  # an empty directory left by an older rig.py
        elif config.GO_BIN_DIR.exists():
            stale = config.CACHE / f".go-bin-{config.OLLAMA_VERSION}.incomplete-{os.getpid()}"
            log(f"{config.GO_BIN_DIR} is incomplete (no llama-server?): moving it to {stale}")
            config.GO_BIN_DIR.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(config.GO_BIN_DIR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def go_module_dir(version: str) -> Path:
    r = subprocess.run(["go", "mod", "download", "-json", f"{config.OLLAMA_MODULE}@v{version}"], env=base_env(),
                       capture_output=True, text=True, check=False, cwd=str(config.CACHE))
    try:
        d = Path(json.loads(r.stdout)["Dir"])
    except (ValueError, KeyError):
        die(f"go mod download {config.OLLAMA_MODULE}@v{version} failed: {r.stdout[-1000:]}{r.stderr[-1000:]}")
    if not (d / "llama" / "server" / "CMakeLists.txt").is_file():
        die(f"{d} has no llama/server/CMakeLists.txt: cannot build llama-server for v{version}")
    return d


def llama_cpp_tree(dest: Path) -> str:
    """Unpack vendor/llama.cpp from the llama-cpp-python sdist (PyPI) into dest; return the sdist name."""
    import tarfile
    dl = config.CACHE / "pypi-src"
    dl.mkdir(parents=True, exist_ok=True)
    name, ver = config.LLAMA_CPP_PYPI.split("==")
    stem = name.replace("-", "_")
    if not list(dl.glob(f"{stem}-{ver}.tar.gz")):
        log(f"pip download {config.LLAMA_CPP_PYPI} (sdist, about 77 MB)")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "-d", str(dl), config.LLAMA_CPP_PYPI], check=True, capture_output=True)
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
    src = go_module_dir(config.OLLAMA_VERSION)
    work = bindir / "_work"
    tree = work / "llama.cpp"
    tree.mkdir(parents=True)
    sdist = llama_cpp_tree(tree)
    build = work / "build"
    configure = ["cmake", "-S", str(src / "llama" / "server"), "-B", str(build), "--preset", "cpu", "-G", "Ninja",
                 f"-DFETCHCONTENT_SOURCE_DIR_LLAMA_CPP={tree}", "-DFETCHCONTENT_FULLY_DISCONNECTED=ON",
                 "-DGGML_CPU_ALL_VARIANTS=OFF", "-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON"]
    log(f"building llama-server for v{config.OLLAMA_VERSION} from {sdist} vendor/llama.cpp + {src}/llama/compat/*.patch "
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
