# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Whether the filesystem of a models directory has room for what pulls will add.

What a pull adds (the blobs of the registry manifest the server does not have yet) is decided in ollama_model
from the manifest (``_client.manifest_blobs``) and the server's own answer (``HEAD /api/blobs``).
"""

from __future__ import annotations

import os
import shutil


def free_bytes(models_dir: str) -> tuple:
    """``(path measured, free bytes)``: the models directory, or its nearest existing parent."""
    path = os.path.abspath(models_dir)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path, shutil.disk_usage(path).free
