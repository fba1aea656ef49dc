# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interpreter wrapper for tools/bench.py: runs the module under this Python and records its peak RSS.

tools/bench.py points ``ansible_python_interpreter`` of the measured tasks at a small shell script that execs
``<python> rss_wrapper.py "$@"``. AnsiballZ runs the module inside the one child process started here, so the
children's ``ru_maxrss`` (kB on Linux) is the module process's peak resident set. One JSON line is appended to
$BENCH_RSS_FILE; stdin, stdout, stderr and the exit status pass through unchanged.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys


def main():
    status = subprocess.call([sys.executable] + sys.argv[1:])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    path = os.environ.get("BENCH_RSS_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"maxrss_kb": usage.ru_maxrss, "status": status}) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
