# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ollama_bundle and module_utils/_bundle: the bundle format, damage detection, and the import's order of requests
against a scripted server (the real server: integration target ollama_bundle)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import urllib.error
import urllib.request

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._bundle import (
    Bundle,
    BundleError,
    LoopbackRegistry,
    blob_member,
    write_bundle,
)
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_name
from ansible_collections.llmops.ollama.plugins.modules import ollama_bundle
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

NAME = "registry.example:5000/library/tiny:1"
WEIGHTS = b"weights " * 5000
CONFIG = b'{"model_format":"gguf"}'


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(blobs):
    layers = [{"mediaType": "application/vnd.ollama.image.model", "digest": sha(WEIGHTS), "size": len(WEIGHTS)}]
    body = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha(CONFIG),
                       "size": len(CONFIG)},
            "layers": layers}
    return json.dumps(body, separators=(",", ":")).encode()


MANIFEST = manifest_bytes(None)
BLOBS = {sha(WEIGHTS): WEIGHTS, sha(CONFIG): CONFIG}


def make_bundle(path, blobs=None):
    blobs = blobs or BLOBS

    def fetch(name, digest, size):
        handle = io.BytesIO(blobs[digest])
        return handle, handle.close

    models = [(parse_name(NAME), sha(MANIFEST), MANIFEST, [(sha(WEIGHTS), len(WEIGHTS)), (sha(CONFIG), len(CONFIG))])]
    return write_bundle(str(path), models, fetch)


@pytest.fixture
def bundle_path(tmp_path):
    path = tmp_path / "models.tar"
    make_bundle(path)
    return path


def offset_of(path, digest):
    bundle = Bundle(str(path))
    try:
        return bundle.members[blob_member(digest)].offset_data
    finally:
        bundle.close()


# ------------------------------------------------------------------------------------------------ format

def test_round_trip(bundle_path):
    bundle = Bundle(str(bundle_path))
    try:
        assert [m["name"] for m in bundle.models] == [NAME]
        assert bundle.blobs == {sha(WEIGHTS): len(WEIGHTS), sha(CONFIG): len(CONFIG)}
        body, blobs = bundle.manifest(bundle.models[0])
        assert body == MANIFEST
        assert dict(blobs) == bundle.blobs
        for digest in BLOBS:
            bundle.check_blob(digest)
    finally:
        bundle.close()


def test_flipped_byte_names_the_blob(bundle_path):
    start = offset_of(bundle_path, sha(WEIGHTS))
    with open(bundle_path, "r+b") as handle:
        handle.seek(start + 100)
        byte = handle.read(1)
        handle.seek(start + 100)
        handle.write(bytes([byte[0] ^ 1]))
    bundle = Bundle(str(bundle_path))
    try:
        bundle.check_blob(sha(CONFIG))
        with pytest.raises(BundleError, match=f"blob {sha(WEIGHTS)} is damaged"):
            bundle.check_blob(sha(WEIGHTS))
    finally:
        bundle.close()


def test_truncated_bundle_lists_what_is_missing(bundle_path):
    start = offset_of(bundle_path, sha(WEIGHTS))
    with open(bundle_path, "r+b") as handle:
        handle.truncate(start + 10)
    bundle = Bundle(str(bundle_path))
    try:
        with pytest.raises(BundleError) as info:
            bundle.check_blobs_there(list(BLOBS))
    finally:
        bundle.close()
    assert f"blob {sha(WEIGHTS)}" in str(info.value) and "cut short" in str(info.value)


def test_not_a_bundle(tmp_path):
    path = tmp_path / "x.tar"
    path.write_bytes(b"hello")
    with pytest.raises(BundleError, match="not a bundle"):
        Bundle(str(path))


def test_export_refuses_a_blob_with_the_wrong_content(tmp_path):
    path = tmp_path / "models.tar"
    bad = dict(BLOBS)
    bad[sha(WEIGHTS)] = WEIGHTS[:-1] + b"X"
    with pytest.raises(BundleError, match=f"blob {sha(WEIGHTS)} .*sha256"):
        make_bundle(path, bad)
    assert os.listdir(tmp_path) == []  # no bundle, no temporary file


def test_loopback_registry_serves_manifests_byte_for_byte():
    with LoopbackRegistry({("ns", "m", "t"): MANIFEST}) as registry:
        with urllib.request.urlopen(f"http://{registry.host}/v2/ns/m/manifests/t") as answer:
            assert answer.read() == MANIFEST
            assert answer.headers["Docker-Content-Digest"] == sha(MANIFEST)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://{registry.host}/v2/ns/m/blobs/{sha(WEIGHTS)}")
        assert info.value.code == 404


# ------------------------------------------------------------------------------------------------ import

def tags(*models):
    return Reply(body={"models": [{"name": name, "model": name, "digest": digest, "size": 1} for name, digest in models]})


def script_import(server, before=()):
    server.on("GET", "/api/tags", tags(*before), tags((NAME, sha(MANIFEST)[7:])))
    for digest in BLOBS:
        server.on("HEAD", f"/api/blobs/{digest}", Reply(404))
        server.on("POST", f"/api/blobs/{digest}", Reply(201))
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, {"status": "success"}]))
    server.on("POST", "/api/copy", Reply(200))
    server.on("DELETE", "/api/delete", Reply(200))


def changes(server):
    return [r for r in server.requests if r.method in ("POST", "DELETE")]


def run(server, check_mode=False, diff=False, **args):
    args.setdefault("url", server.url)
    args.setdefault("state", "imported")
    return run_module(ollama_bundle, args, check_mode=check_mode, diff=diff)


def test_import_uploads_then_publishes_last(server, bundle_path):
    script_import(server)
    result = run(server, path=str(bundle_path), diff=True)
    assert not result["failed"], result
    assert result["changed"] and result["bytes"] == len(WEIGHTS) + len(CONFIG) and result["blobs_sent"] == 2
    done = changes(server)
    assert [r.path for r in done[:2]] == [f"/api/blobs/{sha(WEIGHTS)}", f"/api/blobs/{sha(CONFIG)}"]
    assert done[0].raw_body == WEIGHTS
    pull, copy, delete = done[2:]
    temp = pull.json["model"]
    assert re.match(r"^127\.0\.0\.1:\d+/llmops-bundle-import/model-0:latest$", temp) and pull.json["insecure"]
    assert copy.path == "/api/copy" and copy.json == {"source": temp, "destination": "registry.example:5000/library/tiny:1"}
    assert delete.json == {"model": temp}
    assert result["diff"]["after"] == f"{NAME}@{sha(MANIFEST)[7:19]}\n"


def test_import_is_ok_when_installed(server, bundle_path):
    server.on("GET", "/api/tags", tags((NAME, sha(MANIFEST)[7:])))
    result = run(server, path=str(bundle_path))
    assert not result["failed"] and not result["changed"] and result["bytes"] == 0
    assert changes(server) == [] and server.calls("HEAD") == []


def test_check_mode_predicts_and_sends_nothing(server, bundle_path):
    script_import(server)
    server.on("HEAD", f"/api/blobs/{sha(CONFIG)}", Reply(200))
    result = run(server, path=str(bundle_path), check_mode=True)
    assert result["changed"] and result["bytes"] == len(WEIGHTS) and result["blobs_present"] == 1
    assert changes(server) == []


def test_damaged_bundle_changes_nothing(server, bundle_path):
    start = offset_of(bundle_path, sha(WEIGHTS))
    with open(bundle_path, "r+b") as handle:
        handle.seek(start)
        handle.write(b"X")
    script_import(server)
    result = run(server, path=str(bundle_path))
    assert result["failed"] and f"blob {sha(WEIGHTS)} is damaged" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert changes(server) == []


def test_models_not_in_the_bundle_fail_before_any_request(server, bundle_path):
    result = run(server, path=str(bundle_path), models=["other:1"])
    assert result["failed"] and "other:1 not in the bundle" in result["msg"]
    assert server.requests == []
