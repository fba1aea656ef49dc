# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The API URL a client uses to reach a server started with a given ``OLLAMA_HOST``.

The rule of the role's ``ollama_listen`` (``roles/ollama/tasks/preflight.yml``): scheme ``http`` unless the value
names one, a missing or wildcard host (``0.0.0.0``, ``[::]``) becomes ``127.0.0.1``, a missing port is 11434 for a
bare ``host[:port]`` and the scheme's port (80/443) for a URL.
"""

from __future__ import annotations

DEFAULT_PORT = "11434"
_WILDCARD_HOSTS = ("", "0.0.0.0", "[::]", "[::0]")


def split_listen(listen):
    """``(scheme, host, port)`` of an ``OLLAMA_HOST`` value, with the defaults applied (port as a string)."""
    text = str(listen)
    scheme = text.split("://", 1)[0] if "://" in text else "http"
    hostport = (text.split("://", 1)[1] if "://" in text else text).split("/", 1)[0]
    if hostport.startswith("["):
        host = hostport.split("]", 1)[0] + "]"
        port = hostport.split("]:", 1)[1] if "]:" in hostport else ""
    elif ":" in hostport:
        host, port = hostport.rsplit(":", 1)
    else:
        host, port = hostport, ""
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    if not port:
        port = DEFAULT_PORT if "://" not in text else ("443" if scheme == "https" else "80")
    return scheme, host, port


def listen_url(listen):
    """The URL of the API a server listening on ``listen`` (an ``OLLAMA_HOST`` value) answers at."""
    scheme, host, port = split_listen(listen)
    return f"{scheme}://{host}:{port}"
