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
    type: str
    aliases: [host]
  timeout:
    description:
      - Seconds to wait for one non-streaming request (for example C(GET /api/tags)).
      - Streaming operations such as pulls use their own stall timeout instead of a wall-clock limit.
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
      - Never logged.
    type: str
  headers:
    description:
      - Extra HTTP headers sent with every request. Values are never logged.
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
