# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options every module shares, through each module's main(): bad values fail before any request,
with a clear message that never contains the secret, and no traceback (issue 9, items 2, 7, 13)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_alias, ollama_info, ollama_loaded, ollama_model
from ansible_collections.llmops.ollama.tests.unit.helpers import Reply, run_module

SECRET = "s3cret-token-value"

MODULES = [
    (ollama_info, {}),
    (ollama_model, {"name": "gemma3:270m"}),
    (ollama_alias, {"name": "chat", "source": "gemma3:270m"}),
    (ollama_loaded, {"name": "gemma3:270m"}),
]

BAD = [
    ({"api_key": SECRET + "\r\nX-Injected: 1"}, "api_key contains a carriage return (\\r) at character 19"),
    ({"api_key": SECRET + "\n\n"}, "api_key contains a line feed (\\n) at character 19"),
    ({"api_key": "ключ" + SECRET}, "api_key contains a character outside latin-1 at character 1"),
    ({"headers": {"X-Bad\r\nInjected": SECRET}}, "headers: 'X-Bad\\r\\nInjected' is not a valid HTTP header name"),
    ({"headers": {"X-Token": "\x00" + SECRET}}, "headers['X-Token'] contains a NUL byte at character 1"),
    ({"url": "http://127.0.0.1:11434/\x1b[2J"}, "contains the control character U+001B at character 24"),
    ({"url": f"http://admin:{SECRET}@127.0.0.1:11434"}, "url must not contain credentials"),
]


@pytest.mark.parametrize("module,args", MODULES, ids=[m.__name__.rsplit(".", 1)[-1] for m, a in MODULES])
@pytest.mark.parametrize("bad,expected", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_connection_values_fail_clearly_before_any_request(server, module, args, bad, expected):
    params = dict(args, url=server.url)
    params.update(bad)
    result = run_module(module, params)
    assert result["failed"] is True
    assert result["msg"].startswith(expected) or expected in result["msg"]
    assert "Unexpected error" not in result["msg"] and "exception" not in result
    assert SECRET not in json.dumps(result, ensure_ascii=False)
    assert server.requests == []


def test_a_vaulted_key_with_its_newline_is_sent_without_it(server):
    server.on("GET", "/api/version", Reply(body={"version": "0.24.0"}))
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    server.on("GET", "/api/ps", Reply(body={"models": []}))
    result = run_module(ollama_info, {"url": server.url, "api_key": SECRET + "\n"})
    assert result["failed"] is False
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {SECRET}"}


def test_a_pull_that_said_success_but_left_nothing_fails(server):
    server.on("GET", "/api/tags", Reply(body={"models": []}))
    server.on("POST", "/api/pull", Reply(lines=[{"status": "pulling manifest"}, {"status": "success"}]))
    result = run_module(ollama_model, {"url": server.url, "name": "gemma3:270m"})
    assert result["failed"] is True
    assert result["msg"] == (f"Ollama at {server.url} reported the pull of gemma3:270m "
                             f"as successful, but GET /api/tags does not list it")
    assert result["models"] == []
    assert len(server.calls("POST", "/api/pull")) == 1
