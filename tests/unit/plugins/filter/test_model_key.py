# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.model_key import FilterModule

F = FilterModule().filters()


def test_model_key_fills_defaults_and_ignores_case():
    assert F["model_key"]("gemma3") == "registry.ollama.ai/library/gemma3:latest"
    assert F["model_key"]("registry.ollama.ai/library/Gemma3:latest") == "registry.ollama.ai/library/gemma3:latest"
    assert F["model_key"]("127.0.0.1:5000/library/gemma3:270m") == "127.0.0.1:5000/library/gemma3:270m"


def test_model_key_names_a_bad_name():
    with pytest.raises(AnsibleFilterError, match="bad name!"):
        F["model_key"]("bad name!")


@pytest.mark.parametrize(
    "listen, url",
    [
        ("127.0.0.1:11435", "http://127.0.0.1:11435"),
        ("0.0.0.0:11436", "http://127.0.0.1:11436"),
        (":11437", "http://127.0.0.1:11437"),
        ("[::]:11438", "http://127.0.0.1:11438"),
        ("[::1]:11439", "http://[::1]:11439"),
        ("10.0.0.5", "http://10.0.0.5:11434"),
        ("https://gpu.example", "https://gpu.example:443"),
        ("http://gpu.example/x", "http://gpu.example:80"),
    ],
)
def test_listen_url(listen, url):
    assert F["listen_url"](listen) == url
