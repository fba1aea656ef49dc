# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs llmops.ollama.ollama_loaded, with live progress of its loads (plugin_utils/_progress.py)."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.plugin_utils._progress import ProgressAction


class ActionModule(ProgressAction):

    def progress_applies(self, args):
        # An unload is quick and waits on its own (bounded by timeout).
        return args.get("state") != "unloaded"
