"""Pure ASGI middleware: per-IP token bucket (429 + Retry-After), request body limit (413), request latency.

It runs before routing and body parsing, so floods and oversized bodies cost the gateway almost nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offchain.gateway.ratelimit import RateLimiter, retry_after_header
from offchain.monitoring.metrics import GatewayMetrics


def client_ip(scope: Scope, trust_forwarded_for: bool = False) -> str:
    """The caller's address; with ``trust_forwarded_for`` (behind a proxy) the first X-Forwarded-For hop."""
    if trust_forwarded_for:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "unknown"


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": raw})


class LimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        ip_limiter: RateLimiter,
        max_body_bytes: int,
        metrics: GatewayMetrics | None = None,
        trust_forwarded_for: bool = False,
    ) -> None:
        self.app = app
        self.ip_limiter = ip_limiter
        self.max_body = max_body_bytes
        self.metrics = metrics
        self.trust_forwarded_for = trust_forwarded_for
        self._latency: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        exempt = path in ("/metrics", "/health")
        if not exempt:
            wait = self.ip_limiter.check(client_ip(scope, self.trust_forwarded_for))
            if wait:
                if self.metrics is not None:
                    self.metrics.rate_limited.labels("ip").inc()
                    self.metrics.rejects.labels("rate_limited").inc()
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1013, "reason": "rate limited"})
                    return
                await send_json(
                    send,
                    429,
                    {"error": "rate_limited", "message": f"too many requests from this address; retry in {wait:.2f} s"},
                    {"Retry-After": retry_after_header(wait)},
                )
                return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_json(send, 400, {"error": "bad_request", "message": "invalid Content-Length header"})
                    return
                if declared > self.max_body:
                    await self._too_large(send, declared)
                    return
        started = time.perf_counter()
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, f"request body larger than {self.max_body} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code != 413 or response_started:
                raise
            await self._too_large(send, received)
        finally:
            if self.metrics is not None:
                endpoint = scope.get("endpoint")
                route = getattr(endpoint, "__name__", "unmatched")
                key = (route, scope.get("method", ""))
                child = self._latency.get(key)
                if child is None:
                    child = self._latency[key] = self.metrics.request_latency.labels(*key)
                child.observe(time.perf_counter() - started)

    async def _too_large(self, send: Send, size: int) -> None:
        if self.metrics is not None:
            self.metrics.rejects.labels("too_large").inc()
        await send_json(
            send,
            413,
            {"error": "too_large", "message": f"request body of {size} bytes is over the {self.max_body}-byte limit"},
        )
