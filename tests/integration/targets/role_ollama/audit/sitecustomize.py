# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Audit hook for security.yml, loaded by the module processes through PYTHONPATH.

Records, as JSON lines in $ROLE_OLLAMA_AUDIT_LOG, every way $ROLE_OLLAMA_AUDIT_PATH comes into being or
changes mode: a rename onto it (with the mode and size the renamed file has, so the mode the content
arrives with), a chmod of it (with the size it has at that moment) and an open for writing. A file that
holds content under a mode other than 0600, even for a moment, shows as a line with size > 0 and another
mode. Python's audit events (PEP 578) are raised by os.rename, os.chmod and open themselves, so nothing
in the code under test needs to cooperate.
"""

from __future__ import annotations

import json
import os
import sys

TARGET = os.environ.get("ROLE_OLLAMA_AUDIT_PATH")
LOG = os.environ.get("ROLE_OLLAMA_AUDIT_LOG")
BUSY = []


def _path(value):
    return os.fsdecode(value) if isinstance(value, (str, bytes)) else None


def _size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _record(entry):
    BUSY.append(1)
    try:
        with open(LOG, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
    finally:
        BUSY.pop()


def _hook(event, args):
    if BUSY or event not in ("os.rename", "os.chmod", "open"):
        return
    if event == "os.rename" and _path(args[1]) == TARGET:
        st = os.stat(args[0])
        _record({"event": "rename", "mode": oct(st.st_mode & 0o7777), "size": st.st_size})
    elif event == "os.chmod" and _path(args[0]) == TARGET:
        _record({"event": "chmod", "mode": oct(args[1] & 0o7777), "size": _size(TARGET)})
    elif event == "open" and _path(args[0]) == TARGET:
        mode, flags = args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & (os.O_WRONLY | os.O_RDWR))
        if writing:
            _record({"event": "open", "mode": str(mode), "size": _size(TARGET)})


if TARGET and LOG:
    sys.addaudithook(_hook)
