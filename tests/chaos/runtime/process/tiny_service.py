"""A tiny real service for the runtime tests: /healthz, /readyz, /metrics and /env on
CHAOSBED_PORT.

Run as `python -m tests.chaos.runtime.process.tiny_service`. It uses the standard
library's HTTP server, which starts in a fraction of the time aiohttp takes
to import, so the runtime tests stay fast. Behaviour switches, by port:
TINY_NEVER_READY_PORTS (comma-separated) answer 503 on /readyz;
TINY_NO_METRICS_PORTS answer 404 on /metrics (Prometheus never scrapes them);
TINY_IGNORE_SIGTERM_PORTS ignore SIGTERM (only SIGKILL stops them).
SIGTERM otherwise stops the server and exits 0, as the real services do.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any


def _port_listed(variable: str) -> bool:
    return os.environ["CHAOSBED_PORT"] in os.environ.get(variable, "").split(",")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._reply(200, {"status": "ok"})
        elif self.path == "/readyz":
            ready = not _port_listed("TINY_NEVER_READY_PORTS")
            self._reply(200 if ready else 503, {"ready": ready})
        elif self.path == "/metrics" and not _port_listed("TINY_NO_METRICS_PORTS"):
            self._reply_text(200, "# TYPE tiny_up gauge\ntiny_up 1\n")
        elif self.path == "/env":
            env = {k: v for k, v in os.environ.items() if k.startswith("CHAOSBED_")}
            self._reply(200, env)
        else:
            self._reply(404, {"error": "not found"})

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reply_text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    host = os.environ.get("CHAOSBED_HOST", "127.0.0.1")
    server = ThreadingHTTPServer((host, int(os.environ["CHAOSBED_PORT"])), Handler)
    server.daemon_threads = True

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown).start()

    if _port_listed("TINY_IGNORE_SIGTERM_PORTS"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, stop)
    print(f"tiny service listening on {host}:{server.server_port}", flush=True)
    server.serve_forever(poll_interval=0.05)
    server.server_close()


if __name__ == "__main__":
    main()
