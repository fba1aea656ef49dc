# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters and tests the role uses for names, URLs and keep_alive: the modules' rules, Ansible's errors."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.keep_alive import keep_alive
from ansible_collections.llmops.ollama.plugins.filter.model_name import model_name
from ansible_collections.llmops.ollama.plugins.filter.normalize_url import normalize_url
from ansible_collections.llmops.ollama.plugins.filter.same_model import same_model
from ansible_collections.llmops.ollama.plugins.filter.short_digest import short_digest
from ansible_collections.llmops.ollama.plugins.module_utils import _client, _names
from ansible_collections.llmops.ollama.plugins.test.same_model import TestModule as SameModelTest
from ansible_collections.llmops.ollama.plugins.test.valid_keep_alive import valid_keep_alive
from ansible_collections.llmops.ollama.plugins.test.valid_model_name import valid_model_name

GEMMA = ["gemma3", "gemma3:latest", "library/gemma3", "registry.ollama.ai/library/gemma3:latest",
         "https://registry.ollama.ai/library/gemma3", "Gemma3:LATEST"]


@pytest.mark.parametrize("name", GEMMA)
def test_every_form_of_a_name_is_one_model(name):
    # The role's old Jinja key() called the URL form a different model; parse_name does not.
    assert same_model(name, "gemma3")
    assert SameModelTest().tests()["same_model"](name, "gemma3:latest")
    assert model_name(name, "key") == "registry.ollama.ai/library/gemma3:latest"
    assert model_name(name, "key") == "/".join(_names.parse_name(name).key[:3]) + ":" + _names.parse_name(name).key[3]


def test_url_form_and_short_form_are_the_same_model():
    assert same_model("https://registry.ollama.ai/library/gemma3", "gemma3")
    assert not same_model("gemma3", "gemma3:1b")
    assert not same_model("myorg/gemma3", "gemma3")
    assert not same_model("registry.example.com/library/gemma3", "gemma3")


def test_model_name_forms():
    assert model_name("https://registry.ollama.ai/library/gemma3") == "gemma3:latest"
    assert model_name("MyOrg/Gemma3") == "MyOrg/Gemma3:latest"
    assert model_name("registry.example.com:5000/myorg/gemma3:1b") == "registry.example.com:5000/myorg/gemma3:1b"
    assert model_name("gemma3", "full") == "registry.ollama.ai/library/gemma3:latest"
    assert model_name("MyOrg/Gemma3", "key") == "registry.ollama.ai/myorg/gemma3:latest"


@pytest.mark.parametrize("bad, message", [
    ("bad name", r"invalid model name 'bad name': model 'bad name' is not valid"),
    ("gemma3:cloud", r"reads the tag 'cloud' as a source suffix"),
    ("", "model name is empty"),
    (5, "model name 5 is not a string"),
])
def test_bad_names_raise_a_filter_error_naming_the_value(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        model_name(bad)
    with pytest.raises(AnsibleFilterError, match=message):
        same_model("gemma3", bad)
    assert valid_model_name(bad) is False
    assert valid_model_name("gemma3") is True


def test_model_name_rejects_an_unknown_form():
    with pytest.raises(AnsibleFilterError, match="form 'long' is not one of short, full, key"):
        model_name("gemma3", "long")


@pytest.mark.parametrize("value, url", [
    ("", "http://127.0.0.1:11434"),
    (None, "http://127.0.0.1:11434"),
    ("127.0.0.1:11434", "http://127.0.0.1:11434"),
    ("example.com", "http://example.com:11434"),
    ("https://example.com", "https://example.com:443"),
    ("http://example.com/ollama/", "http://example.com:80/ollama"),
    ("[::1]:8080", "http://[::1]:8080"),
    ("0.0.0.0", "http://0.0.0.0:11434"),
])
def test_normalize_url_is_the_modules_rule(value, url):
    assert normalize_url(value) == url == _client.normalize_url(value)
    assert normalize_url(url) == url  # already normal: unchanged


@pytest.mark.parametrize("value, url", [
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    ("[::]:11434", "http://127.0.0.1:11434"),
    ("http://[::0]:80", "http://127.0.0.1:80"),
    (":11434", "http://127.0.0.1:11434"),
    ("10.0.0.5:11434", "http://10.0.0.5:11434"),
    ("[fe80::1]:11434", "http://[fe80::1]:11434"),
])
def test_normalize_url_of_a_listen_address(value, url):
    assert normalize_url(value, listen=True) == url


@pytest.mark.parametrize("value, message", [
    ("ftp://example.com", r"url 'ftp://example.com': scheme 'ftp' is not http or https"),
    ("example.com:99999", r"port '99999' is not a number"),
    ("http://user:pw@example.com", r"url must not contain credentials"),
    (11434, r"normalize_url: 11434 is not a string"),
])
def test_normalize_url_errors(value, message):
    with pytest.raises(AnsibleFilterError, match=message) as exc:
        normalize_url(value)
    assert "pw@" not in str(exc.value)


@pytest.mark.parametrize("value, wire", [
    (-1, -1), (300, 300), (1.5, 1.5), ("300", 300), ("-1", -1), ("0", 0), ("600.5", 600.5), ("+5", 5),
    ("30m", "30m"), ("-1m", "-1m"), ("1h30m", "1h30m"), ("0", 0),
])
def test_keep_alive_is_the_modules_rule(value, wire):
    result = keep_alive(value)
    assert result == wire and type(result) is type(wire)
    assert result == _names.parse_keep_alive(value).wire
    assert valid_keep_alive(value) is True


@pytest.mark.parametrize("value, message", [
    ("1d", r"ollama_warm_keep_alive: '1d' is refused by Ollama \(time: unknown unit \"d\" in duration \"1d\"\)"),
    ("5x", r"ollama_warm_keep_alive: '5x' is refused by Ollama"),
    ("", r"ollama_warm_keep_alive: '' is refused by Ollama"),
    (True, r"ollama_warm_keep_alive: True is not a duration"),
    (None, r"ollama_warm_keep_alive: None is not a duration"),
    ([1], r"ollama_warm_keep_alive: \[1\] is not a duration"),
    (1e12, r"ollama_warm_keep_alive: 1000000000000.0 seconds overflows"),
])
def test_bad_keep_alive_raises_a_filter_error_naming_the_value(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        keep_alive(value, "ollama_warm_keep_alive")
    assert valid_keep_alive(value) is False


@pytest.mark.parametrize("value, short", [
    ("sha256:9ef47bd2b59edce8f678e90b5e4112f42238c5670e5c69a78e7a3585fc458fd7", "9ef47bd2b59e"),
    ("9ef47bd2b59edce8f678e90b5e4112f42238c5670e5c69a78e7a3585fc458fd7", "9ef47bd2b59e"),
    ("", ""), (None, ""),
])
def test_short_digest_is_the_modules_rule(value, short):
    assert short_digest(value) == short == _names.short_digest(value)


def test_short_digest_refuses_a_non_string():
    with pytest.raises(AnsibleFilterError, match=r"short_digest: 12 is not a string"):
        short_digest(12)
