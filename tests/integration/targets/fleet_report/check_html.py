"""Assert what the HTML fleet report marks as drift: check_html.py REPORT.html EXPECT.json.

EXPECT: {"drift_cells": [[row, host, kind], ...], "version_drift": [host, ...], "no_drift": bool}. Every
expected cell must carry class "drift" with that data-drift kind, and no other cell may.
"""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser


class Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.table = None
        self.row = None
        self.drift = set()
        self.ids = set()
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag in ("link", "script", "img") or (tag == "a" and a.get("href", "").startswith("http")):
            self.external.append((tag, a))
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tr":
            self.row = a.get("data-model") or a.get("data-host")
        elif tag == "td" and "drift" in (a.get("class") or "").split():
            self.drift.add((self.table, self.row, a.get("data-host", ""), a.get("data-drift")))


def main():
    html_path, expect_path = sys.argv[1:3]
    cells = Cells()
    with open(html_path, encoding="utf-8") as f:
        cells.feed(f.read())
    expect = json.loads(open(expect_path, encoding="utf-8").read())
    want = {("models", row, host, kind) for row, host, kind in expect.get("drift_cells", [])}
    want |= {("models", row, "", kinds) for row, kinds in expect.get("drift_rows", [])}
    want |= {("hosts", host, "", kind) for host, kind in expect.get("host_drift", [])}
    errors = []
    if cells.drift != want:
        errors.append(f"drift cells: got {sorted(cells.drift, key=str)}, want {sorted(want, key=str)}")
    if cells.external:
        errors.append(f"external assets: {cells.external}")
    banner = "no-drift" if expect.get("no_drift") else "drift"
    if banner not in cells.ids:
        errors.append(f"no element with id {banner!r}")
    if errors:
        sys.exit("check_html: " + "; ".join(errors))
    print(f"check_html: {html_path}: {len(cells.drift)} drift cells as expected, no external assets")


main()
