"""The local model registry (Debian's docker-registry) and its nginx front, and the cached registry
storage the rig seeds from the seed instance."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

from riglib import config
from riglib.build import apt_install
from riglib.models import Seed
from riglib.net import free_port, http_request, wait_http
from riglib.ollama import run_stream
from riglib.output import die, step
from riglib.procs import base_env, kill_group, pidfile_proc_alive, start_daemon, stop_named


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
        config.STATE.mkdir(parents=True, exist_ok=True)
        stop_registry()
        conf = config.STATE / "registry.yml"
        conf.write_text(config.render("registry.yml.in", root=config.STATE / "registry", port=reg_port,
                                      secret=secrets.token_hex(16)))
        env = base_env()
        env.pop("REGISTRY_HTTP_ADDR", None)
        proc = start_daemon("registry", ["/usr/bin/docker-registry", "serve", str(conf)], env,
                            config.STATE / "registry.log", config.STATE / "registry.pid")
        wait_http(f"http://127.0.0.1:{reg_port}/v2/", 30, proc, config.STATE / "registry.log")
        for sub in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
            (config.STATE / "nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)
        nconf = config.STATE / "nginx.conf"
        nconf.write_text(config.render("nginx.conf.in", state=config.STATE, front=front_port, reg=reg_port))
        argv = [nginx_bin(), "-e", str(config.STATE / "nginx-error.log"), "-p", str(config.STATE), "-c", str(nconf)]
        t = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
        if t.returncode != 0:
            die(f"nginx -t failed: {t.stderr}")
        # nginx writes its own nginx.pid too; the rig tracks the master it started in nginx.master.pid
        proc = start_daemon("nginx", argv, env, config.STATE / "nginx.log", config.STATE / "nginx.master.pid")
        wait_http(f"http://127.0.0.1:{front_port}/v2/", 30, proc, config.STATE / "nginx-error.log")
        s.note = f"registry 127.0.0.1:{reg_port}, front 127.0.0.1:{front_port}"


def stop_registry() -> list[str]:
    stopped = []
    if stop_named("nginx.master", "nginx", signal.SIGTERM):
        stopped.append("nginx")
    (config.STATE / "nginx.pid").unlink(missing_ok=True)
    if stop_named("registry", "docker-registry"):
        stopped.append("registry")
    return stopped


def registry_manifest(reg_url: str, repo: str, ref: str) -> tuple[int, bytes, str]:
    st, h, body = http_request(f"{reg_url}/v2/{repo}/manifests/{ref}", headers={"Accept": config.MANIFEST_V2})
    return st, body, h.get("docker-content-digest", "")


def registry_put_manifest(reg_url: str, repo: str, tag: str, body: bytes) -> str:
    st, h, resp = http_request(f"{reg_url}/v2/{repo}/manifests/{tag}", "PUT", body=body,
                               headers={"Content-Type": config.MANIFEST_V2})
    if st not in (200, 201):
        die(f"PUT manifest {repo}:{tag}: HTTP {st} {resp[:300]!r}")
    return h.get("docker-content-digest", "")


def orig_manifest_path(repo: str, tag: str) -> Path:
    return config.ORIG_MANIFESTS / repo / f"{tag}.json"


def _v2() -> Path:
    return config.REGISTRY_ROOT / "docker" / "registry" / "v2"


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
        missing = [local for local, (repo, tag) in config.REGISTRY_MODELS.items() if not cache_registry_has(repo, tag)]
        if missing:
            url = seed.ensure()
            port = free_port()
            conf = config.LOG_DIR / "push-registry.yml"
            conf.write_text(config.render("registry.yml.in", root=config.REGISTRY_ROOT, port=port,
                                          secret=secrets.token_hex(16)))
            proc = start_daemon("push-registry", ["/usr/bin/docker-registry", "serve", str(conf)], base_env(),
                                config.LOG_DIR / "push-registry.log", None)
            try:
                wait_http(f"http://127.0.0.1:{port}/v2/", 30, proc, config.LOG_DIR / "push-registry.log")
                reg_url = f"http://127.0.0.1:{port}"
                for local in missing:
                    repo, tag = config.REGISTRY_MODELS[local]
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
        for local, (repo, tag) in config.REGISTRY_MODELS.items():
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
    for root, dirs, files in os.walk(config.REGISTRY_ROOT):
        rel = Path(root).relative_to(config.REGISTRY_ROOT)
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
    for repo, tag in config.REGISTRY_MODELS.values():
        want = orig_manifest_path(repo, tag).read_bytes()
        st, body, _hdrs = registry_manifest(reg_url, repo, tag)
        if st == 200 and body == want:
            continue
        registry_put_manifest(reg_url, repo, tag, want)
        notes.append(f"{repo}:{tag}")
    return notes
