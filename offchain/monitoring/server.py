"""A tiny threaded HTTP server for keepers and the submitter: ``GET /metrics`` and ``GET /health``.

``/health`` answers 200 with ``{"status": "ok", ...}`` while the service's health callable returns a
dict whose ``ok`` is true, else 503: a keeper whose last round is too old reports itself unhealthy.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)
HealthCheck = Callable[[], dict[str, Any]]


def render_latest(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in Prometheus text format and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _always_ok() -> dict[str, Any]:
    return {"ok": True}


@dataclass
class MetricsServer:
    """A running metrics server; :meth:`close` stops it."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler(registry: CollectorRegistry, health: HealthCheck) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, ctype = render_latest(registry)
                self._reply(200, body, ctype)
            elif path == "/health":
                try:
                    state = dict(health())
                except Exception as exc:  # a failing health check is itself unhealthy, never a crash
                    state = {"ok": False, "error": f"health check raised: {exc}"}
                ok = bool(state.pop("ok", False))
                body = json.dumps({"status": "ok" if ok else "unhealthy", **state}, default=str).encode()
                self._reply(200 if ok else 503, body, "application/json")
            else:
                self._reply(404, b'{"error": "not_found", "message": "try /metrics or /health"}', "application/json")

        def _reply(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("metrics %s", format % args)

    return Handler


def serve_metrics(
    port: int, registry: CollectorRegistry, health: HealthCheck = _always_ok, host: str = "127.0.0.1"
) -> MetricsServer:
    """Serve ``/metrics`` and ``/health`` on ``host:port`` (0: a free port) from a daemon thread."""
    httpd = ThreadingHTTPServer((host, port), _handler(registry, health))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name=f"metrics-{port}", daemon=True)
    thread.start()
    server = MetricsServer(httpd, thread)
    log.info("metrics: serving /metrics and /health on %s", server.url)
    return server
