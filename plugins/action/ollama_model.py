# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs llmops.ollama.ollama_model, with live progress of its pulls and builds (plugin_utils/_progress.py)."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.plugin_utils._progress import ProgressAction


class ActionModule(ProgressAction):

    def progress_applies(self, args):
        # Deleting transfers nothing (exclusive deletes come after the pulls of present/latest).
        return args.get("state") != "absent"
