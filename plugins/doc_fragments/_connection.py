# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:

    # Connection options shared by every module of the collection (argument spec: module_utils/_common.py).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - The Ollama API to talk to.
      - Accepts the forms the Ollama CLI accepts in E(OLLAMA_HOST) and reads them the same way
        (V(host), V(host:port), V([v6addr]:port), V(scheme://host:port)). A missing port is V(11434),
        except V(80) for C(http://) and V(443) for C(https://) URLs.
      - If not set, the environment variable E(OLLAMA_HOST) on the managed node is used, and if that is not set
        either, V(http://127.0.0.1:11434).
      - Credentials in the URL (V(http://user:password@host)) are refused without being repeated; send a token
        with O(api_key) or a header with O(headers). Spaces and control characters are refused too.
      - Redirects are never followed (the Ollama API does not redirect), so O(url) must be the address that
        answers; O(api_key) and O(headers) are sent to it and nowhere else.
      - Proxies are chosen the way the Ollama CLI (Go's C(ProxyFromEnvironment)) chooses them from the managed
        node's environment, E(HTTPS_PROXY)/E(https_proxy) for C(https://) and E(HTTP_PROXY)/E(http_proxy) for
        C(http://) URLs, never for V(localhost) or a loopback address, and not for hosts matched by
        E(NO_PROXY)/E(no_proxy) (V(*), IP addresses, CIDR ranges, domains with their subdomains, V(.domain) for
        subdomains only, optional V(:port)).
    type: str
    aliases: [host]
  timeout:
    description:
      - Seconds one non-streaming request (for example C(GET /api/tags)) may take in all, from connecting to the
        last byte of the answer, however slowly the server or a proxy sends it.
      - Streaming operations such as pulls use their own stall timeout (time without progress) instead of a
        wall-clock limit.
    type: float
    default: 30
  validate_certs:
    description:
      - Verify the TLS certificate of an HTTPS O(url). Only set to V(false) on a trusted network.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify an HTTPS O(url) against, for an API behind a TLS proxy.
    type: path
  client_cert:
    description:
      - A PEM client certificate (may include the key) for a TLS proxy that requires client authentication.
    type: path
  client_key:
    description:
      - The PEM private key for O(client_cert), when the certificate file does not include it.
    type: path
  api_key:
    description:
      - "Sent as C(Authorization: Bearer <api_key>), for an Ollama API behind an authenticating proxy."
      - If not set, the environment variable E(OLLAMA_API_KEY) on the managed node is used.
      - One trailing newline is dropped (a key vaulted with C(echo "$KEY" | ansible-vault encrypt_string) keeps
        it). Any other control character, or a character outside latin-1, fails the task before any request,
        with a message that does not show the key.
      - Never logged, and sent only to O(url).
    type: str
  headers:
    description:
      - Extra HTTP headers sent with every request, and only to O(url). Values are never logged.
      - Names must be valid HTTP header names; values follow the rules of O(api_key) (one trailing newline
        dropped, other control characters refused without showing the value).
    type: dict
    default: {}
"""

    # Modules in the action group extend this one too.
    ACTIONGROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/llmops.ollama.ollama) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - llmops.ollama.ollama
"""
