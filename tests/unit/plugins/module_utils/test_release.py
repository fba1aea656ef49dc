# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Release archive names per version range, from ollama/ollama .github/workflows/release.yaml at each tag."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._release import (
    InvalidRelease,
    archive_format,
    archive_name,
    auto_bundles,
    parse_sha256sums,
)


@pytest.mark.parametrize("version, name", [
    ("0.6.5", "ollama-linux-amd64.tgz"),
    ("0.13.5", "ollama-linux-amd64.tgz"),
    ("0.14.0-rc0", "ollama-linux-amd64.tar.zst"),  # 34d0c55ea is in v0.14.0-rc0
    ("0.14.0", "ollama-linux-amd64.tar.zst"),
    ("v0.24.0", "ollama-linux-amd64.tar.zst"),
    ("0.34.4", "ollama-linux-amd64.tar.zst"),
])
def test_base_archive_by_version(version, name):
    assert archive_name(version, "amd64") == name


def test_format():
    assert archive_format("0.13.99") == "tgz"
    assert archive_format("0.14.0") == "tar.zst"
    assert archive_format("1.0.0") == "tar.zst"


@pytest.mark.parametrize("version, arch, bundle, name", [
    ("0.13.5", "amd64", "rocm", "ollama-linux-amd64-rocm.tgz"),
    ("0.24.0", "amd64", "rocm", "ollama-linux-amd64-rocm.tar.zst"),
    ("0.24.0", "arm64", "jetpack6", "ollama-linux-arm64-jetpack6.tar.zst"),
    ("0.6.5", "arm64", "jetpack5", "ollama-linux-arm64-jetpack5.tgz"),
    ("0.23.1", "amd64", "mlx", "ollama-linux-amd64-mlx.tar.zst"),
])
def test_addons(version, arch, bundle, name):
    assert archive_name(version, arch, bundle) == name


@pytest.mark.parametrize("version, arch, bundle, message", [
    ("0.24.0", "arm64", "rocm", "built for amd64 only, not arm64"),
    ("0.24.0", "amd64", "jetpack6", "built for arm64 only"),
    ("0.23.0", "amd64", "mlx", "from Ollama 0.23.1"),
    ("0.24.0", "amd64", "cuda", "'cuda' does not exist"),
    ("0.24.0", "x86_64", "", "'x86_64' has no Ollama Linux release"),
    ("latest", "amd64", "", "'latest' is not a release version"),
])
def test_refused(version, arch, bundle, message):
    with pytest.raises(InvalidRelease, match=message):
        archive_name(version, arch, bundle)


def test_auto_bundles():
    assert auto_bundles("amd64") == []
    assert auto_bundles("amd64", amd_gpu=True) == ["rocm"]
    assert auto_bundles("arm64", amd_gpu=True) == []
    assert auto_bundles("arm64", tegra_release="# R36 (release), REVISION: 4.3") == ["jetpack6"]
    assert auto_bundles("arm64", tegra_release="# R35 (release), REVISION: 5.0") == ["jetpack5"]
    assert auto_bundles("arm64", tegra_release="# R32 (release)") == []


def test_sha256sums_as_the_release_workflow_writes_them():
    text = ("a" * 64 + "  ./ollama-linux-amd64.tar.zst\n"
            + "B" * 64 + " *ollama-linux-arm64.tar.zst\n"
            + "not a line\n")
    assert parse_sha256sums(text) == {
        "ollama-linux-amd64.tar.zst": "a" * 64,
        "ollama-linux-arm64.tar.zst": "b" * 64,
    }
