"""A webhook receiver for the stack tests and the webhook bench: a container on the compose
network that billing-service delivers to. Standard library only (it runs in python:3.11-slim).

It records every request whole (headers, body, when it arrived) for the test process, which
verifies each one with the official `standardwebhooks` library; it does not judge them itself.
  POST /hook/...     recorded; answered 204 after `delay` seconds, or 500 while `fail_next` > 0
  GET  /received     every recorded request, as JSON
  POST /control      {"delay": seconds, "fail_next": count, "clear": true}
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
_lock = threading.Lock()
_received: list[dict[str, object]] = []
_control = {"delay": 0.0, "fail_next": 0}


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        body = self.rfile.read(length)
        if self.path == "/control":
            self._set_control(json.loads(body or b"{}"))
            return
        arrived = time.time()
        with _lock:
            delay = float(_control["delay"])
            failing = int(_control["fail_next"]) > 0
            if failing:
                _control["fail_next"] = int(_control["fail_next"]) - 1
        if delay:
            time.sleep(delay)
        with _lock:
            _received.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": base64.b64encode(body).decode(),
                    "arrived": arrived,
                    "answered": 500 if failing else 204,
                }
            )
        self._answer(500 if failing else 204, b"")

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._answer(200, b"ok")
            return
        with _lock:
            payload = json.dumps(_received).encode()
        self._answer(200, payload, "application/json")

    def _set_control(self, values: dict[str, object]) -> None:
        with _lock:
            if values.get("clear"):
                _received.clear()
            for name in ("delay", "fail_next"):
                if name in values:
                    _control[name] = values[name]  # type: ignore[assignment]
        self._answer(204, b"")

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: one line per hook
        pass


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("0.0.0.0", 9000), Receiver).serve_forever()
