# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""How many bytes pulls will add to a models directory, and whether its filesystem has room for them.

A pull downloads the blobs of the registry manifest (``config`` and ``layers``, each with ``digest`` and
``size``) that the models directory does not hold yet; Ollama stores each as ``blobs/sha256-<hex>``
(``server/internal/cache/blob``, ``GetFile``), shared by every model that uses it.
"""

from __future__ import annotations

import json
import os
import shutil


class BadManifest(ValueError):
    """A registry answer that is not a manifest with sizes."""


def manifest_blobs(body) -> dict:
    """``{digest: size}`` of a manifest's config and layers."""
    try:
        doc = json.loads(body)
        items = ([doc["config"]] if doc.get("config") else []) + list(doc.get("layers") or [])
        return {str(item["digest"]): int(item["size"]) for item in items}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BadManifest(f"not a model manifest with blob sizes ({exc})") from exc


def blob_path(models_dir: str, digest: str) -> str:
    return os.path.join(models_dir, "blobs", digest.replace(":", "-", 1))


def missing_bytes(models_dir: str, blobs: dict) -> int:
    """Bytes of the blobs (``{digest: size}``, already merged across models) not yet in ``models_dir``."""
    return sum(size for digest, size in blobs.items() if not os.path.isfile(blob_path(models_dir, digest)))


def free_bytes(models_dir: str) -> tuple:
    """``(path measured, free bytes)``: the models directory, or its nearest existing parent."""
    path = os.path.abspath(models_dir)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path, shutil.disk_usage(path).free
