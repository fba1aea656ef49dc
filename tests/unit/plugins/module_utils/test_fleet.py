# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet report's drift rules (plugins/module_utils/_fleet.py)."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.module_utils._fleet import fleet_report

GEMMA = "sha256:" + "a1" * 32
VARIANT = "sha256:" + "b2" * 32
MINILM = "sha256:" + "c3" * 32


def tag(name, digest, size=291554930):
    return {"name": name, "model": name, "digest": digest, "size": size}


def host(version="0.34.4", models=(), running=(), error=None, verify=None):
    return {"url": "http://127.0.0.1:11434", "version": version, "models": list(models), "running": list(running),
            "error": error, "verify": verify}


def row(report, name):
    (found,) = [m for m in report["models"] if m["name"] == name]
    return found


def test_identical_hosts_have_no_drift():
    same = [tag("gemma3:270m", GEMMA), tag("all-minilm:latest", MINILM, 45960996)]
    report = fleet_report({"b": host(models=same), "a": host(models=list(reversed(same)))})
    assert report["has_drift"] is False
    assert report["drift"] == []
    assert report["host_names"] == ["a", "b"]
    assert [m["name"] for m in report["models"]] == ["all-minilm:latest", "gemma3:270m"]
    cell = row(report, "gemma3:270m")["cells"]["a"]
    assert cell == {"state": "present", "drift": False, "digest": "a1a1a1a1a1a1", "size": 291554930,
                    "size_human": "292 MB", "loaded": False, "text": "a1a1a1a1a1a1 (292 MB)"}
    assert report["summary"] == "2 hosts, 2 models, 0 loaded: no drift"


def test_names_are_compared_the_way_ollama_compares_them():
    report = fleet_report({"a": host(models=[tag("gemma3:latest", GEMMA)]),
                           "b": host(models=[tag("registry.ollama.ai/library/GEMMA3:latest", GEMMA)])})
    assert report["has_drift"] is False
    assert [m["name"] for m in report["models"]] == ["gemma3:latest"]


def test_a_different_digest_marks_the_minority_cell():
    report = fleet_report({"a": host(models=[tag("gemma3:270m", GEMMA)]),
                           "b": host(models=[tag("gemma3:270m", VARIANT)]),
                           "c": host(models=[tag("gemma3:270m", GEMMA)])})
    gemma = row(report, "gemma3:270m")
    assert gemma["drift"] == ["digest"]
    assert {h: c["drift"] for h, c in gemma["cells"].items()} == {"a": False, "b": True, "c": False}
    assert report["drift"] == ["gemma3:270m: different digests: a1a1a1a1a1a1 on a, c; b2b2b2b2b2b2 on b"]


def test_a_digest_tie_marks_every_cell():
    report = fleet_report({"a": host(models=[tag("gemma3:270m", GEMMA)]),
                           "b": host(models=[tag("gemma3:270m", VARIANT)])})
    assert all(c["drift"] for c in row(report, "gemma3:270m")["cells"].values())


def test_a_missing_model_marks_the_hosts_without_it():
    report = fleet_report({"a": host(models=[tag("gemma3:270m", GEMMA), tag("all-minilm:latest", MINILM)]),
                           "b": host(models=[tag("gemma3:270m", GEMMA)])})
    minilm = row(report, "all-minilm:latest")
    assert minilm["drift"] == ["missing"]
    assert minilm["cells"]["b"] == {"state": "missing", "drift": True, "digest": "", "size": None,
                                    "size_human": "", "loaded": False, "text": "missing"}
    assert minilm["cells"]["a"]["drift"] is False
    assert row(report, "gemma3:270m")["drift"] == []
    assert report["drift"] == ["all-minilm:latest: missing on b"]


def test_versions_that_differ_mark_the_minority_host():
    report = fleet_report({"a": host("0.34.4"), "b": host("0.24.0"), "c": host("0.34.4")})
    assert {h["name"]: h["version_drift"] for h in report["hosts"]} == {"a": False, "b": True, "c": False}
    assert report["drift"] == ["Ollama versions differ: 0.24.0 on b; 0.34.4 on a, c"]
    assert report["has_drift"] is True


def test_an_unreachable_host_is_drift_and_its_cells_are_unknown():
    report = fleet_report({"a": host(models=[tag("gemma3:270m", GEMMA)]),
                           "b": host(error="Cannot reach Ollama at http://10.0.0.5:11434 (GET /api/tags): refused")})
    assert report["has_drift"] is True
    assert report["drift"] == ["b: Ollama did not answer (Cannot reach Ollama at http://10.0.0.5:11434 "
                               "(GET /api/tags): refused)"]
    gemma = row(report, "gemma3:270m")
    assert gemma["drift"] == []  # not "missing": nothing is known about b
    assert gemma["cells"]["b"]["state"] == "unknown" and gemma["cells"]["b"]["drift"] is True
    assert report["hosts"][1]["version"] is None


def test_loaded_models_are_reported_and_never_drift():
    running = [{"name": "gemma3:270m", "digest": GEMMA, "size": 540000000, "size_vram": 270000000,
                "gpu_percent": 50, "context_length": 4096, "expires_at": "2318-08-21T12:00:00Z", "forever": True}]
    report = fleet_report({"a": host(models=[tag("gemma3:270m", GEMMA)], running=running),
                           "b": host(models=[tag("gemma3:270m", GEMMA)])})
    assert report["has_drift"] is False
    assert report["loaded"] == [{"host": "a", "name": "gemma3:270m", "digest": "a1a1a1a1a1a1", "size": 540000000,
                                 "size_human": "540 MB", "gpu_percent": 50, "context_length": 4096,
                                 "expires_at": "2318-08-21T12:00:00Z", "forever": True, "expiry": "forever"}]
    assert row(report, "gemma3:270m")["cells"]["a"]["loaded"] is True
    assert row(report, "gemma3:270m")["cells"]["b"]["loaded"] is False


def test_verify_figures_are_carried_per_host_and_model():
    figures = {"kind": "generate", "first_token_ms": 51.2, "tokens_per_second": 40.5, "prompt_tokens_per_second": 300.0,
               "load_ms": 2.1, "total_ms": 500.0, "tokens": 8, "embedding_length": None, "response": "blue"}
    report = fleet_report({"a": host(verify=[{"name": "gemma3:270m", "verify": figures},
                                             {"name": "all-minilm:latest", "verify": None}])})
    assert report["verify"] == [{"host": "a", "name": "gemma3:270m", "kind": "generate", "first_token_ms": 51.2,
                                 "tokens_per_second": 40.5, "prompt_tokens_per_second": 300.0, "load_ms": 2.1,
                                 "total_ms": 500.0, "tokens": 8, "embedding_length": None}]
