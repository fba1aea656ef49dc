# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One TLS context per module run: Request.open built one per request, and each loads the system CA bundle."""

from __future__ import annotations

import ssl

from ansible.module_utils import urls

from ansible_collections.llmops.ollama.plugins.module_utils import _client as client_module
from ansible_collections.llmops.ollama.plugins.module_utils._client import (
    OllamaClient,
    registry_manifest,
    shared_tls_context,
)
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_name
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply


def _count_contexts(monkeypatch):
    """(ours, ansible's): the contexts shared_tls_context built and those Request.open built itself."""
    ours, theirs = [], []
    real = urls.make_context

    def counted(into):
        def make(**kwargs):
            into.append(kwargs)
            return real(**kwargs)
        return make

    monkeypatch.setattr(client_module, "_TLS_CONTEXTS", {})
    monkeypatch.setattr(client_module, "make_context", counted(ours))
    monkeypatch.setattr(urls, "make_context", counted(theirs))
    return ours, theirs


def test_many_requests_build_one_tls_context(server, monkeypatch):
    ours, theirs = _count_contexts(monkeypatch)
    server.on("GET", "/v2/library/gemma3/manifests/270m", Reply(body=b'{"schemaVersion":2}'))
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    name = parse_name(f"{server.url[len('http://'):]}/library/gemma3:270m")
    for dummy in range(5):
        registry_manifest(name, insecure=True)
    client = OllamaClient(server.url)
    for dummy in range(3):
        assert client.tags() == []
    assert len(server.requests) == 8
    if client_module._OPEN_TAKES_CONTEXT:  # ansible-core 2.17 and later
        assert len(ours) == 1 and theirs == []
    else:  # ansible-core 2.16: Request.open cannot take one, so it builds its own as before
        assert ours == [] and len(theirs) == 8


def test_the_shared_context_keeps_the_settings(monkeypatch):
    _count_contexts(monkeypatch)
    strict, lax = shared_tls_context(True), shared_tls_context(False)
    if not client_module._OPEN_TAKES_CONTEXT:
        assert strict is None and lax is None
        return
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname
    assert lax.verify_mode == ssl.CERT_NONE and not lax.check_hostname
    assert shared_tls_context(True) is strict


def test_settings_that_fail_to_load_leave_the_error_to_request_open(monkeypatch, tmp_path):
    _count_contexts(monkeypatch)
    missing = str(tmp_path / "no-such-ca.pem")
    assert shared_tls_context(True, ca_path=missing) is None
    assert client_module._TLS_CONTEXTS == {}
