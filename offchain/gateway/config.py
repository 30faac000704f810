"""Gateway limits and timings (all have operator-friendly defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayConfig:
    """Rate limits are token buckets: ``*_rate`` requests per second sustained, ``*_burst`` at once.

    ``ip_*`` applies to every HTTP request and WebSocket connection from one client address;
    ``account_*`` to authenticated traffic of one account (orders after their signature checks, private
    queries, cancels). ``max_body_bytes`` bounds request bodies (413 beyond), ``max_ws_message_bytes``
    WebSocket frames. ``session_ttl`` is the lifetime of a login token, ``challenge_ttl`` of a login nonce.
    """

    ip_rate: float = 200.0
    ip_burst: float = 400.0
    account_rate: float = 100.0
    account_burst: float = 200.0
    max_body_bytes: int = 16 * 1024
    max_ws_message_bytes: int = 16 * 1024
    session_ttl: int = 3600
    challenge_ttl: int = 120
    max_book_depth: int = 500
    expire_interval: float = 1.0
    ws_queue: int = 1000
    trust_forwarded_for: bool = False
