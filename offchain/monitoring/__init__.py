"""Prometheus metrics for every off-chain service: definitions per service and a tiny /metrics + /health server.

Nothing here is global: each service builds its metric objects on a :class:`prometheus_client.CollectorRegistry`
it owns (:func:`new_registry`), so tests and several services in one process never collide.
"""

from offchain.monitoring.metrics import (
    GatewayMetrics,
    KeeperMetrics,
    MatcherMetrics,
    SubmitterMetrics,
    new_registry,
)
from offchain.monitoring.server import MetricsServer, render_latest, serve_metrics

__all__ = [
    "GatewayMetrics",
    "KeeperMetrics",
    "MatcherMetrics",
    "MetricsServer",
    "SubmitterMetrics",
    "new_registry",
    "render_latest",
    "serve_metrics",
]
