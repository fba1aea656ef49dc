# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A loopback authenticating proxy in front of the rig's Ollama (which has no auth of its own).

auth_proxy.py UPSTREAM KEY HEADER=VALUE PORT_FILE LOG_FILE PARENT_PID

Forwards a request to UPSTREAM only when it carries "Authorization: Bearer KEY" and the header HEADER with
VALUE; answers 401 otherwise. Logs one line per request ("200 POST /api/generate" or "401 GET
/api/version"), writes its port to PORT_FILE, and exits when PARENT_PID is gone (or after ten minutes).
"""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time
import urllib.error
import urllib.request

UPSTREAM, KEY, HEADER, PORT_FILE, LOG_FILE, PARENT = sys.argv[1:7]
HEADER_NAME, HEADER_VALUE = HEADER.split("=", 1)
LOCK = threading.Lock()


def log(line):
    with LOCK, open(LOG_FILE, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.headers.get("Authorization") != "Bearer " + KEY or self.headers.get(HEADER_NAME) != HEADER_VALUE:
            log("401 %s %s" % (self.command, self.path))
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "unauthorized"}')
            return
        request = urllib.request.Request(UPSTREAM + self.path, data=body, method=self.command,
                                         headers={"Content-Type": self.headers.get("Content-Type") or "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=600) as resp:
                status, data = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        log("%d %s %s" % (status, self.command, self.path))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = forward

    def log_message(self, *args):
        pass


def watch_parent(server):
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            os.kill(int(PARENT), 0)
        except OSError:
            break
        time.sleep(1)
    server.shutdown()


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=watch_parent, args=(server,), daemon=True).start()
    with open(PORT_FILE + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
