"""Hooks that give each keeper and the batch submitter Prometheus metrics and a health endpoint with a
few lines in its command (``--metrics-port``), without changing the keeper modules themselves:

- :class:`KeeperMonitor` counts rounds and failures and answers ``/health`` (unhealthy when the last
  good round is older than ``stale_after`` seconds);
- ``observe_*`` functions read what a round already returns or keeps (liquidation actions and the
  keeper's counters, oracle tick results and prices, bridge store counts) into the gauges;
- :class:`MeteredChainClient` wraps the submitter's ``ChainClient``: batch latency, settlement gas,
  batch results, last batch id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from offchain.monitoring.metrics import KeeperMetrics, SubmitterMetrics, new_registry
from offchain.monitoring.server import MetricsServer, serve_metrics

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
ONE = 10**18


def metrics_port_option(fn: F) -> F:
    """Click option ``--metrics-port`` (no metrics server when omitted)."""
    return click.option(
        "--metrics-port",
        type=int,
        default=None,
        help="Serve Prometheus /metrics and /health on this port (127.0.0.1; 0 picks a free port).",
    )(fn)


@dataclass
class KeeperMonitor:
    """Round bookkeeping of one keeper (``name`` is the ``keeper`` label)."""

    name: str
    metrics: KeeperMetrics
    stale_after: float = 300.0
    clock: Callable[[], float] = time.time
    started: float = field(default=0.0)
    last_ok: float | None = None
    last_error: str = ""
    server: MetricsServer | None = None
    _seen: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @contextmanager
    def round(self) -> Iterator[None]:
        """Wrap one keeper round: success sets the last-round time, an exception counts an error (re-raised)."""
        try:
            yield
        except Exception as exc:
            self.metrics.errors.labels(self.name).inc()
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise
        self.last_ok = self.clock()
        self.metrics.rounds.labels(self.name).inc()
        self.metrics.last_round.labels(self.name).set(self.last_ok)

    def wrap(self, fn: Callable[..., Any], observe: Callable[[Any], None] | None = None) -> Callable[..., Any]:
        """``fn`` run inside :meth:`round`, its result passed to ``observe``."""

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self.round():
                result = fn(*args, **kwargs)
            if observe is not None:
                try:
                    observe(result)
                except Exception as exc:  # metrics must never stop a keeper
                    log.warning("%s: metrics observation failed: %s", self.name, exc)
            return result

        return wrapped

    def health(self) -> dict[str, Any]:
        now = self.clock()
        reference = self.last_ok if self.last_ok is not None else self.started
        age = now - reference
        return {
            "ok": age <= self.stale_after,
            "keeper": self.name,
            "seconds_since_last_round": round(age, 3),
            "rounds_ok": self.last_ok is not None,
            "last_error": self.last_error,
        }

    def delta(self, key: str, total: int) -> int:
        """Increase of a cumulative counter (starting at 0) since the previous call with ``key``."""
        before = self._seen.get(key, 0)
        self._seen[key] = total
        return max(0, total - before)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def start_keeper_metrics(name: str, port: int | None, stale_after: float = 300.0) -> KeeperMonitor | None:
    """A monitor with its own registry, served on ``port``; ``None`` when ``port`` is ``None``."""
    if port is None:
        return None
    registry = new_registry()
    monitor = KeeperMonitor(name, KeeperMetrics.create(registry), stale_after)
    monitor.server = serve_metrics(port, registry, monitor.health)
    log.info("%s: metrics on %s/metrics, health on %s/health", name, monitor.server.url, monitor.server.url)
    return monitor


# ---------------------------------------------------------------------- observers


def observe_liquidation(monitor: KeeperMonitor, keeper: Any, actions: Sequence[Any] | None) -> None:
    """Liquidation keeper round: actions by kind, accounts the scan put near maintenance, from the keeper's
    own cumulative ``metrics`` (``scans``, ``candidates``)."""
    for action in actions or ():
        if getattr(action, "sent", True):
            monitor.metrics.liquidations.labels(str(action.kind)).inc()
    km = keeper.metrics
    scans = monitor.delta("scans", int(km.scans))
    candidates = monitor.delta("candidates", int(km.candidates))
    if scans:
        monitor.metrics.accounts_near_liquidation.set(candidates / scans)


def observe_oracle_prices(monitor: KeeperMonitor, oracle: Any, assets: Mapping[str, bytes], now: int) -> None:
    """Age of every asset's index price: ``now - updatedAt`` of ``oracle.getPrice(asset)``."""
    for symbol, asset in assets.items():
        _, updated_at = oracle.getPrice(asset)
        monitor.metrics.oracle_update_age.labels(symbol).set(max(0, now - int(updated_at)))


def observe_oracle_tick(monitor: KeeperMonitor, result: Any, asset_names: Mapping[str, str]) -> None:
    """Isolated sources per asset from an oracle tick result's event lines (``SourceIsolated {...}``).

    ``asset_names`` maps the hex asset id (no 0x) to a symbol. A round without events sets zeros."""
    if result is None:
        return
    counts = dict.fromkeys(asset_names.values(), 0)
    for line in getattr(result, "events", ()):
        if line.startswith("SourceIsolated"):
            symbol = next((s for h, s in asset_names.items() if h in line), "unknown")
            counts[symbol] = counts.get(symbol, 0) + 1
    for symbol, n in counts.items():
        monitor.metrics.oracle_isolated_sources.labels(symbol).set(n)


def observe_insurance_fund(monitor: KeeperMonitor, fund: Any, tokens: Mapping[str, str]) -> None:
    """``InsuranceFund.available(token)`` (X18) per token symbol, exported in tokens."""
    for symbol, token in tokens.items():
        monitor.metrics.insurance_fund.labels(symbol).set(int(fund.available(token)) / ONE)


def observe_bridge_backlog(monitor: KeeperMonitor, counts: Mapping[str, int], done_states: Sequence[str]) -> None:
    """Bridge transfers in any state other than ``done_states`` (from the relayer store's ``counts()``)."""
    monitor.metrics.bridge_backlog.set(sum(n for state, n in counts.items() if state not in done_states))


def watch_oracle_submitter(
    monitor: KeeperMonitor, submitter: Any, oracle: Any, symbols: Sequence[str], now: Callable[[], int]
) -> None:
    """Wrap an oracle ``Submitter``'s ``tick`` (on the instance): rounds, isolated sources, price ages."""
    from offchain.oracle.signing import asset_id

    assets = {s: bytes(asset_id(s)) for s in symbols}
    names = {a.hex(): s for s, a in assets.items()}

    def observe(result: Any) -> None:
        observe_oracle_tick(monitor, result, names)
        observe_oracle_prices(monitor, oracle, assets, now())

    submitter.tick = monitor.wrap(submitter.tick, observe)


# ---------------------------------------------------------------------- batch submitter


class MeteredChainClient:
    """A settlement ``ChainClient`` that records batch latency (prepare to confirmed receipt), settlement gas
    (``gas_of(tx_hash)``), batch results and the last batch id. Everything else is delegated."""

    def __init__(
        self,
        inner: Any,
        metrics: SubmitterMetrics,
        gas_of: Callable[[str], int | None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.inner = inner
        self.metrics = metrics
        self.gas_of = gas_of
        self.clock = clock
        self._prepared_at: dict[int, tuple[float, int]] = {}
        self._sent: dict[str, tuple[float, int]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def last_batch_id(self) -> int:
        last = int(self.inner.last_batch_id())
        self.metrics.last_batch_id.set(last)
        return last

    def batch_root(self, batch_id: int) -> bytes:
        return self.inner.batch_root(batch_id)

    def prepare(self, batch_id: int, root: bytes, fills: Sequence[Any]) -> Any:
        started = self.clock()
        try:
            prepared = self.inner.prepare(batch_id, root, fills)
        except Exception:
            self.metrics.batches.labels("rejected").inc()
            raise
        self._prepared_at[id(prepared)] = (started, len(fills))
        return prepared

    def tx_hash(self, prepared: Any) -> str:
        return self.inner.tx_hash(prepared)

    def send(self, prepared: Any) -> None:
        self.inner.send(prepared)
        entry = self._prepared_at.pop(id(prepared), None)
        if entry is not None:
            self._sent[self.inner.tx_hash(prepared)] = entry

    def wait(self, tx_hash: str, timeout: float) -> bool | None:
        """Confirmation of a sent batch: latency is prepare to confirmed receipt; a reconciliation wait on a
        transaction this process did not send (after a restart) records the result only."""
        ok = self.inner.wait(tx_hash, timeout)
        if ok is None:
            return None
        started, n_fills = self._sent.pop(tx_hash, (None, 0))
        if started is not None:
            self.metrics.batch_latency.observe(self.clock() - started)
        self.metrics.batches.labels("settled" if ok else "reverted").inc()
        if ok:
            self.metrics.fills_settled.inc(n_fills)
        if self.gas_of is not None:
            gas = self.gas_of(tx_hash)
            if gas is not None:
                self.metrics.settlement_gas.observe(gas)
        return ok


def start_submitter_metrics(port: int | None) -> tuple[SubmitterMetrics, KeeperMonitor] | None:
    """Submitter metrics and a round monitor on one registry served on ``port``; ``None`` without a port."""
    if port is None:
        return None
    registry = new_registry()
    monitor = KeeperMonitor("batch_submitter", KeeperMetrics.create(registry))
    monitor.server = serve_metrics(port, registry, monitor.health)
    return SubmitterMetrics.create(registry), monitor
