#!/usr/bin/env python
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""check_lines.py LOG MIN HOST [HOST...] [--log HOST=FILE ...]

Asserts on what the controller printed (LOG, the ansible-playbook output): for every HOST, at least MIN
``HOST | pulling ...  NN% ...`` lines whose percentages increase from the first to the last and never go back, and
one ``HOST | pulled ...`` line after them; with ``--log HOST=FILE``, that the host's progress_log holds the same
lines (timestamps aside). MIN 0 asserts that no progress line at all was printed for those hosts.
"""
import re
import sys

args = sys.argv[1:]
logs = {}
while "--log" in args:
    index = args.index("--log")
    host, path = args[index + 1].split("=", 1)
    logs[host] = path
    del args[index:index + 2]
log, minimum, hosts = args[0], int(args[1]), args[2:]
text = open(log).read()
for host in hosts:
    mine = [line.split(" | ", 1)[1] for line in text.splitlines() if line.startswith(f"{host} | ")]
    if minimum == 0:
        assert not mine, f"{host}: expected no progress line, got {mine}"
        print(f"{host}: no progress line, as expected")
        continue
    pulling = [line for line in mine if line.startswith("pulling ")]
    percents = [int(re.search(r"  (\d+)% ", line).group(1)) for line in pulling]
    assert len(pulling) >= minimum, f"{host}: {len(pulling)} progress lines, expected at least {minimum}: {mine}"
    assert percents == sorted(percents) and percents[0] < percents[-1], f"{host}: percentages {percents}"
    for line in pulling:
        assert re.search(r"  \d+% [\d.]+/[\d.]+ [KMG]?B  [\d.]+ [KMG]?B/s", line), f"{host}: malformed {line!r}"
    assert mine[-1].startswith("pulled ") and " in " in mine[-1], f"{host}: no final line: {mine[-1]!r}"
    print(f"{host}: {len(pulling)} progress lines, {percents[0]}% .. {percents[-1]}%, then {mine[-1]!r}")
    if host in logs:
        logged = [re.sub(r"^\S+Z ", "", line) for line in open(logs[host]).read().splitlines()]
        assert logged == mine, f"{host}: progress_log differs from the controller:\n{logged}\n{mine}"
        print(f"{host}: progress_log holds the same {len(logged)} lines")
