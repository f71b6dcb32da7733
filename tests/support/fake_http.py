# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback HTTP server for unit tests: answers are queued, requests recorded.

``with queued_server() as state``: ``state["url"]`` is the base URL; append to ``state["answers"]`` one
``(status, json_body)`` or ``(status, json_body, headers)`` per request, or ``"close"`` to drop the connection
unanswered; ``state["requests"]`` holds what arrived (method, path, query, headers, body).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
from typing import Any, Dict, Iterator
from urllib.parse import parse_qs, urlsplit


@contextlib.contextmanager
def queued_server() -> Iterator[Dict[str, Any]]:
    state: Dict[str, Any] = {"answers": [], "requests": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            state["requests"].append(
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length).decode(),
                }
            )
            answer = state["answers"].pop(0)
            if answer == "close":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, body, headers = (tuple(answer) + ({},))[:3]
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state["url"] = "http://127.0.0.1:%d" % httpd.server_address[1]
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
