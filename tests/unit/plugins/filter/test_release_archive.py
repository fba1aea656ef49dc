# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter import release_archive, release_checksum, release_gpu_bundles

F = {**release_archive.FilterModule().filters(), **release_checksum.FilterModule().filters(),
     **release_gpu_bundles.FilterModule().filters()}


def test_filters_wrap_errors():
    assert F["release_archive"]("0.24.0", "amd64", "rocm") == "ollama-linux-amd64-rocm.tar.zst"
    with pytest.raises(AnsibleFilterError, match="'cuda' does not exist"):
        F["release_archive"]("0.24.0", "amd64", "cuda")


def test_checksum_names_the_missing_file():
    sums = "c" * 64 + "  ./ollama-linux-amd64.tgz\n"
    assert F["release_checksum"](sums, "ollama-linux-amd64.tgz") == "sha256:" + "c" * 64
    with pytest.raises(AnsibleFilterError, match=r"http://m/sha256sum.txt has no checksum for x.tar.zst \(it lists: ollama-linux-amd64.tgz\)"):
        F["release_checksum"](sums, "x.tar.zst", "http://m/sha256sum.txt")


def test_gpu_bundles():
    assert F["release_gpu_bundles"]("amd64", True, "") == ["rocm"]
