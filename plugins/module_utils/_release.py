# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Names of Ollama's Linux release archives, per version, as upstream's release workflow builds them.

Ground truth is ``.github/workflows/release.yaml`` (job ``linux-build``) and ``scripts/install.sh`` of
ollama/ollama at each tag:

- before v0.14.0 every Linux bundle is ``ollama-linux-<arch>[-<addon>].tgz`` (``tar | pigz``); from v0.14.0
  (commit 34d0c55ea "Linux: switch to zstd compression", first in v0.14.0-rc0) it is ``.tar.zst``
  (``tar | zstd``). Both hold ``bin/ollama`` and ``lib/ollama/...`` relative to the install prefix.
- add-on bundles unpack into the same prefix as the base bundle: ``-rocm`` (AMD, amd64 builds only),
  ``-jetpack5`` / ``-jetpack6`` (NVIDIA Jetson, arm64 builds only), and from v0.23.1 ``-mlx`` (the MLX
  libraries moved out of the base bundle). ``install.sh`` adds rocm when ``lspci``/``lshw`` show an AMD
  GPU and jetpack5/6 when ``/etc/nv_tegra_release`` names R35/R36; it never adds mlx.
- the release's ``sha256sum.txt`` lists every uploaded file as ``<hex>  ./<name>``.
"""

from __future__ import annotations

import re

ZSTD_SINCE = (0, 14, 0)
MLX_BUNDLE_SINCE = (0, 23, 1)

# add-on -> the architectures upstream builds it for
BUNDLE_ARCHES = {
    "rocm": ("amd64",),
    "jetpack5": ("arm64",),
    "jetpack6": ("arm64",),
    "mlx": ("amd64", "arm64"),
}

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.]+))?$")


class InvalidRelease(ValueError):
    """A version, architecture or add-on that has no upstream Linux archive."""


def parse_version(version) -> tuple:
    """``"0.24.0"`` / ``"v0.14.0-rc1"`` -> ``(0, 24, 0)``; a pre-release counts as its release (rc0 of 0.14.0 is zstd)."""
    match = _VERSION_RE.match(str(version).strip())
    if not match:
        raise InvalidRelease(f"ollama_version {version!r} is not a release version like 0.24.0")
    return tuple(int(part) for part in match.groups()[:3])


def archive_format(version) -> str:
    """``tgz`` before 0.14.0, ``tar.zst`` from 0.14.0."""
    return "tar.zst" if parse_version(version) >= ZSTD_SINCE else "tgz"


def archive_name(version, arch: str, bundle: str = "") -> str:
    """File name of the base bundle (``bundle`` empty) or an add-on bundle for this version and architecture."""
    ver = parse_version(version)
    arch = str(arch)
    if arch not in ("amd64", "arm64"):
        raise InvalidRelease(f"architecture {arch!r} has no Ollama Linux release (amd64, arm64)")
    bundle = str(bundle or "")
    if bundle:
        if bundle not in BUNDLE_ARCHES:
            raise InvalidRelease(
                f"GPU bundle {bundle!r} does not exist (known: {', '.join(sorted(BUNDLE_ARCHES))})")
        if arch not in BUNDLE_ARCHES[bundle]:
            raise InvalidRelease(
                f"GPU bundle {bundle!r} is built for {', '.join(BUNDLE_ARCHES[bundle])} only, not {arch}")
        if bundle == "mlx" and ver < MLX_BUNDLE_SINCE:
            raise InvalidRelease(
                f"GPU bundle 'mlx' exists from Ollama 0.23.1 (earlier releases carry MLX in the base bundle), "
                f"not {version}")
    suffix = f"-{bundle}" if bundle else ""
    return f"ollama-linux-{arch}{suffix}.{archive_format(version)}"


def auto_bundles(arch: str, amd_gpu: bool = False, tegra_release: str = "") -> list:
    """The add-ons install.sh would add: jetpack6 on L4T R36, jetpack5 on R35, rocm with an AMD GPU (amd64)."""
    tegra = str(tegra_release or "")
    if tegra:
        if "R36" in tegra:
            return ["jetpack6"] if arch == "arm64" else []
        if "R35" in tegra:
            return ["jetpack5"] if arch == "arm64" else []
        return []
    if amd_gpu and arch in BUNDLE_ARCHES["rocm"]:
        return ["rocm"]
    return []


def parse_sha256sums(text: str) -> dict:
    """``sha256sum`` output (``<hex>  ./name`` or ``<hex> *name``) -> ``{name: hex}``."""
    sums = {}
    for line in str(text).splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2 or not re.match(r"^[0-9a-fA-F]{64}$", parts[0]):
            continue
        name = parts[1].lstrip("*")
        while name.startswith("./"):
            name = name[2:]
        sums[name] = parts[0].lower()
    return sums
