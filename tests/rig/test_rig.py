"""Tests of the rig's own logic (tests/rig/riglib): no server is started, nothing under the real cache is touched.

Run: ``python -m pytest tests/rig`` (pytest puts tests/rig on sys.path, as running rig.py does); `make lint`
runs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from riglib import build, config, instance, models, procs, registry
from riglib.cli import main
from riglib.output import RigError

RIG_PY = Path(__file__).resolve().parent / "rig.py"


@pytest.fixture
def version(monkeypatch):
    """set_ollama_version() changes module state: put it back after the test."""
    for name in ("OLLAMA_VERSION", "GO_BIN_DIR", "VENDOR_INCLUDE"):
        monkeypatch.setattr(config, name, getattr(config, name))
    return config.set_ollama_version


# ------------------------------------------------------------------------------------------------ versions

@pytest.mark.parametrize("text, parsed", [("0.34.4", (0, 34, 4)), ("v0.6.5", (0, 6, 5)), (" 1.2.3 ", (1, 2, 3))])
def test_version_tuple(text, parsed):
    assert config.version_tuple(text) == parsed


@pytest.mark.parametrize("text", ["0.34", "latest", "0.34.4-rc1", ""])
def test_version_tuple_refuses_what_is_not_x_y_z(text):
    with pytest.raises(RigError, match="is not X.Y.Z"):
        config.version_tuple(text)


def test_set_ollama_version_moves_the_derived_cache_paths(version):
    version("v0.24.0")
    assert config.OLLAMA_VERSION == "0.24.0"
    assert config.GO_BIN_DIR == config.CACHE / "go-bin-0.24.0"
    assert config.VENDOR_INCLUDE == config.CACHE / "vendor-0.24.0" / "include"
    assert config.build_log() == config.LOG_DIR / "build-0.24.0.log"


def test_set_ollama_version_refuses_below_the_floor(version):
    before = config.OLLAMA_VERSION
    with pytest.raises(RigError, match="older than the floor"):
        version("0.6.4")
    assert config.OLLAMA_VERSION == before


@pytest.mark.parametrize("text, needed", [("0.29.9", False), ("0.30.0", True), ("0.34.4", True), ("0.6.5", False)])
def test_needs_llama_server_from_0_30_0(text, needed):
    assert config.needs_llama_server(text) is needed


@pytest.mark.parametrize("text, llama_server, complete", [
    ("0.24.0", False, True), ("0.34.4", False, False), ("0.34.4", True, True),
])
def test_build_complete_needs_llama_server_only_where_ollama_does(tmp_path, version, text, llama_server, complete):
    version(text)
    assert build.build_complete(tmp_path) is False  # no ollama binary yet
    (tmp_path / "ollama").write_text("")
    if llama_server:
        (tmp_path / "llama-server").write_text("")
    assert build.build_complete(tmp_path) is complete


def test_cache_lock_makes_a_second_holder_wait_and_says_for_what(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "CACHE", tmp_path)
    order = []

    def second():
        with procs.cache_lock(".rig.lock", "another rig using the cache"):
            order.append("second")

    with procs.cache_lock(".rig.lock", "another rig using the cache"):
        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive()  # flock: the second open of the lock file waits
        order.append("first")
    waiter.join(5)
    assert order == ["first", "second"]
    assert f"waiting for another rig using the cache (lock {tmp_path / '.rig.lock'})" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------ templates

def test_registry_config_renders_root_port_and_secret():
    text = config.render("registry.yml.in", root="/state/registry", port=5123, secret="s3cr3t")
    assert "    rootdirectory: /state/registry\n" in text
    assert "  addr: 127.0.0.1:5123\n" in text
    assert "  secret: s3cr3t\n" in text
    assert "{" not in text.replace("[nosniff]", "")


def test_nginx_config_renders_ports_and_keeps_literal_braces():
    text = config.render("nginx.conf.in", state="/state", front=8001, reg=5123)
    assert "        listen 127.0.0.1:8001;\n" in text
    assert "return 307 http://localhost:5123$request_uri;" in text
    assert 'location ~ "^/v2/.+/blobs/sha256:[0-9a-f]{64}$" {' in text
    assert "pid /state/nginx.pid;" in text
    assert "events { worker_connections 256; }" in text
    assert text.count("{") == text.count("}")


# ------------------------------------------------------------------------------------------------ models

def test_safetensors_files_selects_like_the_ollama_cli_with_relative_paths(tmp_path):
    for rel in ("model.safetensors", "model-00001.safetensors", "config.json", "1_Pooling/config.json",
                "README.md", "other.safetensors", "a/b/deep.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    found = models.safetensors_files(tmp_path)
    assert sorted(found) == ["1_Pooling/config.json", "config.json", "model-00001.safetensors", "model.safetensors"]
    assert found["1_Pooling/config.json"] == tmp_path / "1_Pooling" / "config.json"


# ------------------------------------------------------------------------------------------------ registry storage

def _cached_registry(root, manifests, repo="library/gemma3", tag="270m"):
    """A registry storage tree (docker-registry v2 layout) holding one manifest with one layer."""
    layer = b"layer bytes"
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config_blob = b"{}"
    config_digest = "sha256:" + hashlib.sha256(config_blob).hexdigest()
    body = json.dumps({"config": {"digest": config_digest}, "layers": [{"digest": layer_digest}]}).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    v2 = root / "docker" / "registry" / "v2"
    for dg, data in ((layer_digest, layer), (config_digest, config_blob), (digest, body)):
        blob = v2 / "blobs" / "sha256" / dg[7:9] / dg[7:] / "data"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
    links = [v2 / "repositories" / repo / "_manifests" / "revisions" / "sha256" / digest[7:] / "link"]
    links += [v2 / "repositories" / repo / "_layers" / "sha256" / dg[7:] / "link" for dg in (layer_digest, config_digest)]
    for link in links:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.write_text(digest)
    orig = manifests / repo / f"{tag}.json"
    orig.parent.mkdir(parents=True, exist_ok=True)
    orig.write_bytes(body)
    return v2 / "blobs" / "sha256" / layer_digest[7:9] / layer_digest[7:] / "data", links[0]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REGISTRY_ROOT", tmp_path / "registry")
    monkeypatch.setattr(config, "ORIG_MANIFESTS", tmp_path / "registry-manifests")
    return tmp_path


def test_cache_registry_has_needs_the_manifest_every_blob_and_every_link(cache):
    assert registry.cache_registry_has("library/gemma3", "270m") is False
    layer, link = _cached_registry(config.REGISTRY_ROOT, config.ORIG_MANIFESTS)
    assert registry.cache_registry_has("library/gemma3", "270m") is True
    link.unlink()
    assert registry.cache_registry_has("library/gemma3", "270m") is False
    _cached_registry(config.REGISTRY_ROOT, config.ORIG_MANIFESTS)
    layer.unlink()
    assert registry.cache_registry_has("library/gemma3", "270m") is False


def test_mirror_registry_links_blobs_and_copies_what_retag_rewrites(cache):
    layer, link = _cached_registry(config.REGISTRY_ROOT, config.ORIG_MANIFESTS)
    dst = cache / "private"
    count = registry.mirror_registry(dst)
    assert count == 3 + 3  # three blobs, three link files
    mirrored_layer = dst / layer.relative_to(config.REGISTRY_ROOT)
    mirrored_link = dst / link.relative_to(config.REGISTRY_ROOT)
    assert os.path.samefile(mirrored_layer, layer)  # a hard link: no copy of the weights per rig
    assert not os.path.samefile(mirrored_link, link)  # a copy: a retag in this rig never touches the cache
    assert mirrored_link.read_text() == link.read_text()
    (dst / "stale").write_text("left by an earlier rig")
    registry.mirror_registry(dst)
    assert not (dst / "stale").exists()


# ------------------------------------------------------------------------------------------------ command line

def test_rig_cmd_names_this_rigs_state_cache_and_entry_point():
    assert instance.rig_cmd() == (f"env LLMOPS_RIG_STATE={config.STATE} LLMOPS_RIG_CACHE={config.CACHE} "
                                  f"{sys.executable} {RIG_PY}")


def test_a_version_below_the_floor_fails_the_command(capsys):
    assert main(["--ollama-version", "0.5.0", "status"]) == 1
    assert "older than the floor" in capsys.readouterr().out


def test_rig_py_keeps_its_commands_and_options():
    out = subprocess.run([sys.executable, str(RIG_PY), "--help"], capture_output=True, text=True, check=True).stdout
    for word in ("--use-path-ollama", "--ollama-version", "build", "up", "down", "status", "registry-stop",
                 "registry-start", "retag", "restore"):
        assert word in out
    up = subprocess.run([sys.executable, str(RIG_PY), "up", "--help"], capture_output=True, text=True,
                        check=True).stdout
    assert "--fresh" in up and "--no-verify" in up
