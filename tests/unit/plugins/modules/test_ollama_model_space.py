# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ollama_model models_dir: the size of what pulls add is known (and checked) before the first pull."""

from __future__ import annotations

import json
from collections import namedtuple

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils import _space
from ansible_collections.llmops.ollama.plugins.modules import ollama_model
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

L1 = "sha256:" + "1" * 64
L2 = "sha256:" + "2" * 64
CFG = "sha256:" + "3" * 64
MANIFEST = json.dumps({"schemaVersion": 2, "config": {"digest": CFG, "size": 500},
                       "layers": [{"digest": L1, "size": 300_000_000}, {"digest": L2, "size": 2_000}]})
Usage = namedtuple("Usage", "total used free")


def run(server, tmp_path, free, check_mode=False, **args):
    args.setdefault("url", server.url)
    args.setdefault("models_dir", str(tmp_path / "models"))
    args.setdefault("insecure", True)
    (tmp_path / "models" / "blobs").mkdir(parents=True, exist_ok=True)
    original = _space.shutil.disk_usage
    _space.shutil.disk_usage = lambda path: Usage(10**12, 0, free)
    try:
        return run_module(ollama_model, args, check_mode=check_mode)
    finally:
        _space.shutil.disk_usage = original


def name(server):
    return f"{server.url[len('http://'):]}/library/gemma3:270m"


def blobs(server, present=()):
    """The server's own view of its blobs (HEAD /api/blobs): only ``present`` are there."""
    for digest in (L1, L2, CFG):
        server.on("HEAD", f"/api/blobs/{digest}", Reply(status=200 if digest in present else 404, body=None))


def test_refused_before_pulling_naming_both_numbers(server, tmp_path):
    blobs(server)
    server.on("GET", "/v2/library/gemma3/manifests/270m", Reply(body=MANIFEST))
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run(server, tmp_path, free=100_000_000, name=name(server), free_space_margin=0)
    assert result["failed"] is True and not result.get("changed")
    assert "adds 300 MB (300002500 bytes)" in result["msg"], result["msg"]
    assert "only 100 MB (100000000 bytes) free" in result["msg"]
    assert "Nothing was pulled" in result["msg"]
    assert server.calls("POST", "/api/pull") == []


def test_blobs_present_are_not_counted(server, tmp_path):
    blobs(server, present=[L1])
    server.on("GET", "/v2/library/gemma3/manifests/270m", Reply(body=MANIFEST))
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run(server, tmp_path, free=2_000_000, check_mode=True, name=name(server), free_space_margin=1)
    assert result["failed"] is False and result["changed"] is True, result
    result = run(server, tmp_path, free=1_000_000, check_mode=True, name=name(server), free_space_margin=1)
    assert result["failed"] is True and "(2500 bytes)" in result["msg"]


def test_margin_counts(server, tmp_path):
    blobs(server)
    server.on("GET", "/v2/library/gemma3/manifests/270m", Reply(body=MANIFEST))
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run(server, tmp_path, free=400_000_000, check_mode=True, name=name(server), free_space_margin=200)
    assert result["failed"] is True and "margin of 200 MiB" in result["msg"]


def test_installed_model_asks_no_registry(server, tmp_path):
    server.on("GET", "/api/tags", Reply(body={"models": [{"name": name(server), "digest": "a" * 64, "size": 1}]}))
    result = run(server, tmp_path, free=0, name=name(server))
    assert result["failed"] is False and result["changed"] is False
    assert [r.path for r in server.requests] == ["/api/tags"]


def test_unreachable_registry_warns_and_leaves_it_out(server, tmp_path):
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run(server, tmp_path, free=0, check_mode=True, name="127.0.0.1:1/library/gemma3:270m")
    assert result["failed"] is False
    assert any("Could not size the pull of 127.0.0.1:1/library/gemma3:270m" in w for w in result["warnings"])


@pytest.mark.parametrize("body", ["not json", json.dumps({"layers": [{"digest": L1}]})])
def test_manifest_without_sizes_warns_and_leaves_it_out(server, tmp_path, body):
    server.on("GET", "/v2/library/gemma3/manifests/270m", Reply(body=body))
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    result = run(server, tmp_path, free=0, check_mode=True, name=name(server))
    assert result["failed"] is False
    assert any("Could not size the pull of" in w and "no blob sizes" in w for w in result["warnings"])
