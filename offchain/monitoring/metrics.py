"""Metric definitions, one dataclass per service, each built on a caller-supplied registry.

Naming: ``perpx_<service>_<what>_<unit>``; counters end in ``_total`` (added by prometheus-client).
Units: seconds for latencies and ages, gas units for gas, collateral tokens (not X18) for fund balances.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Request latency buckets (seconds): the gateway answers in well under a millisecond to a few ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Batch settlement latency buckets (seconds): a transaction round trip on a real chain.
BATCH_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)
#: Settlement gas buckets (gas units per batch).
GAS_BUCKETS = (100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 20_000_000, 30_000_000)


def new_registry() -> CollectorRegistry:
    """A fresh registry (never prometheus-client's process-global default)."""
    return CollectorRegistry(auto_describe=True)


@dataclass(frozen=True)
class GatewayMetrics:
    """Orders in (by result), rejections (by reason), request latency (by route), live WebSocket clients."""

    orders_in: Counter
    rejects: Counter
    request_latency: Histogram
    rate_limited: Counter
    ws_clients: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GatewayMetrics:
        return cls(
            orders_in=Counter(
                "perpx_gateway_orders", "Orders received by the gateway, by result", ["result"], registry=registry
            ),
            rejects=Counter(
                "perpx_gateway_rejects", "Requests refused by the gateway, by reason", ["reason"], registry=registry
            ),
            request_latency=Histogram(
                "perpx_gateway_request_latency_seconds",
                "HTTP request latency by route template and method",
                ["route", "method"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            rate_limited=Counter(
                "perpx_gateway_rate_limited",
                "Requests answered 429, by limit (ip or account)",
                ["limit"],
                registry=registry,
            ),
            ws_clients=Gauge(
                "perpx_gateway_ws_clients", "Open WebSocket streams by kind", ["stream"], registry=registry
            ),
        )


@dataclass(frozen=True)
class MatcherMetrics:
    """Matcher input events (by kind), fills, order updates (by status) and resting depth levels."""

    events: Counter
    fills: Counter
    order_updates: Counter
    depth_updates: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> MatcherMetrics:
        return cls(
            events=Counter("perpx_matcher_events", "Matcher input events by kind", ["kind"], registry=registry),
            fills=Counter(
                "perpx_matcher_fills", "Fills produced by the matcher, by market", ["market"], registry=registry
            ),
            order_updates=Counter(
                "perpx_matcher_order_updates", "Order state changes by status", ["status"], registry=registry
            ),
            depth_updates=Counter(
                "perpx_matcher_depth_updates", "Incremental depth updates by market", ["market"], registry=registry
            ),
        )


@dataclass(frozen=True)
class SubmitterMetrics:
    """Batch submitter: batches by result, batch latency, settlement gas, fills waiting to be batched."""

    batches: Counter
    batch_latency: Histogram
    settlement_gas: Histogram
    fills_settled: Counter
    pending_fills: Gauge
    last_batch_id: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SubmitterMetrics:
        return cls(
            batches=Counter("perpx_submitter_batches", "Batches by result", ["result"], registry=registry),
            batch_latency=Histogram(
                "perpx_submitter_batch_latency_seconds",
                "Time from batch built to settleBatch receipt",
                buckets=BATCH_BUCKETS,
                registry=registry,
            ),
            settlement_gas=Histogram(
                "perpx_submitter_settlement_gas", "Gas used per settleBatch", buckets=GAS_BUCKETS, registry=registry
            ),
            fills_settled=Counter("perpx_submitter_fills_settled", "Fills settled on chain", registry=registry),
            pending_fills=Gauge("perpx_submitter_pending_fills", "Fills not yet in a settled batch", registry=registry),
            last_batch_id=Gauge("perpx_submitter_last_batch_id", "Id of the last settled batch", registry=registry),
        )


@dataclass(frozen=True)
class KeeperMetrics:
    """Keepers (oracle reporter, funding, liquidation, bridge relayer): rounds, errors and the watched state."""

    rounds: Counter
    errors: Counter
    last_round: Gauge
    oracle_update_age: Gauge
    oracle_isolated_sources: Gauge
    accounts_near_liquidation: Gauge
    liquidations: Counter
    insurance_fund: Gauge
    bridge_backlog: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> KeeperMetrics:
        return cls(
            rounds=Counter("perpx_keeper_rounds", "Completed keeper rounds", ["keeper"], registry=registry),
            errors=Counter("perpx_keeper_errors", "Keeper rounds that raised", ["keeper"], registry=registry),
            last_round=Gauge(
                "perpx_keeper_last_round_timestamp_seconds",
                "Unix time of the last completed round",
                ["keeper"],
                registry=registry,
            ),
            oracle_update_age=Gauge(
                "perpx_oracle_update_age_seconds",
                "Seconds since the asset's index price was updated",
                ["asset"],
                registry=registry,
            ),
            oracle_isolated_sources=Gauge(
                "perpx_oracle_isolated_sources",
                "Price sources currently isolated as outliers",
                ["asset"],
                registry=registry,
            ),
            accounts_near_liquidation=Gauge(
                "perpx_liquidation_accounts_near",
                "Accounts within the keeper's margin of maintenance",
                registry=registry,
            ),
            liquidations=Counter(
                "perpx_liquidation_actions",
                "Liquidation actions sent, by kind (flag, close, adl)",
                ["kind"],
                registry=registry,
            ),
            insurance_fund=Gauge(
                "perpx_insurance_fund_balance",
                "Insurance fund available balance (tokens)",
                ["token"],
                registry=registry,
            ),
            bridge_backlog=Gauge(
                "perpx_bridge_backlog",
                "Bridge lock messages seen but not yet released on the destination",
                registry=registry,
            ),
        )
