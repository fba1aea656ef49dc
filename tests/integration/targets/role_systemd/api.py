# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a systemd host's Ollama API from the controller (the hosts share its loopback), for runme.sh.

api.py version URL                      print /api/version's version
api.py tags URL                         print the installed model names, one a line
api.py warm URL MODEL SECONDS WAIT      wait up to WAIT seconds until /api/ps lists MODEL with an expires_at
                                        SECONDS (the warm keep_alive) from now, within 10 minutes (the load
                                        may have happened a while ago) and a minute of clock slack
"""

import datetime
import json
import re
import sys
import time
import urllib.request


def get(url, path):
    with urllib.request.urlopen(url.rstrip("/") + path, timeout=10) as r:
        return json.load(r)


def expires(text):
    # "2026-11-26T07:02:19.155234509Z": Go's RFC 3339 with nanoseconds; Python takes microseconds.
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError(f"unexpected expires_at {text!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + zone)


def warm(url, model, seconds, wait):
    end = time.monotonic() + wait
    seen = "nothing"
    while True:
        try:
            running = get(url, "/api/ps").get("models") or []
            now = datetime.datetime.now(datetime.timezone.utc)
            for m in running:
                if m.get("name") == model or m.get("model") == model:
                    left = (expires(m["expires_at"]) - now).total_seconds()
                    if seconds - 600 <= left <= seconds + 60:
                        print(f"{model} loaded, expires in {left:.0f}s (keep_alive {seconds}s)")
                        return 0
                    seen = f"{model} with expires_at {m['expires_at']} ({left:.0f}s from now)"
                    break
            else:
                seen = ", ".join(m.get("name", "?") for m in running) or "no model loaded"
        except OSError as exc:
            seen = f"no answer ({exc})"
        if time.monotonic() > end:
            print(f"{url}/api/ps after {wait}s: {seen}; expected {model} expiring in about {seconds}s")
            return 1
        time.sleep(2)


def main(argv):
    cmd, url = argv[1], argv[2]
    if cmd == "version":
        print(get(url, "/api/version")["version"])
    elif cmd == "tags":
        for m in get(url, "/api/tags").get("models") or []:
            print(m["name"])
    elif cmd == "warm":
        return warm(url, argv[3], int(argv[4]), int(argv[5]))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
