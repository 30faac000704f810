"""Bundle the signed reports of several sources and submit them to MedianOracle about every second."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from web3.exceptions import Web3Exception

from offchain.oracle.reporter import Reporter
from offchain.oracle.signing import SignedReport

log = logging.getLogger("perpx.oracle.submitter")

BundleEntry = tuple[bytes, list[tuple[int, int, int, bytes, bytes]]]


def build_bundle(reports: Sequence[SignedReport]) -> list[BundleEntry]:
    """Group reports by asset (first-seen order) into the ``AssetReports[]`` argument of ``update``."""
    grouped: dict[bytes, list[tuple[int, int, int, bytes, bytes]]] = {}
    for report in reports:
        grouped.setdefault(report.asset, []).append(report.as_tuple())
    return list(grouped.items())


def gas_with_headroom(estimate: int, assets: int) -> int:
    """Gas limit for an update: the estimate runs at another timestamp than the mined block, so the block
    may take branches the estimate did not (first accumulator write, a volatility sample: up to ~50k per
    asset). Unused gas is not charged."""
    return estimate + estimate // 4 + 50_000 * assets


@dataclass
class TickResult:
    """What one submission round did."""

    timestamp: int
    reports: int
    skipped_sources: list[str]
    tx_hash: str | None = None
    events: list[str] = field(default_factory=list)


class Submitter:
    """Collects reports from every reporter and sends one ``update`` transaction per round.

    ``clock`` gives the report timestamp; by default the latest block's timestamp, which the next block can
    never precede (a wall-clock time could be "from the future" for the block that includes it).
    """

    def __init__(
        self,
        oracle: Any,
        sender: Any,
        reporters: Sequence[Reporter],
        symbols: Sequence[str],
        clock: Callable[[], int],
    ) -> None:
        if not reporters:
            raise ValueError("the submitter needs at least one reporter")
        if not symbols:
            raise ValueError("the submitter needs at least one asset symbol")
        self.oracle = oracle
        self.sender = sender
        self.reporters = list(reporters)
        self.symbols = [s.upper() for s in symbols]
        self.clock = clock
        self._last_timestamp = 0

    def tick(self) -> TickResult | None:
        """One round: sign with every source and submit; None when the clock has not moved on."""
        now = self.clock()
        if now <= self._last_timestamp:
            log.info("no new block time since %d; waiting", self._last_timestamp)
            return None
        reports: list[SignedReport] = []
        skipped: list[str] = []
        for reporter in self.reporters:
            signed = reporter.report(self.symbols, now)
            if len(signed) < len(self.symbols):
                skipped.append(reporter.name)
            reports.extend(signed)
        result = TickResult(timestamp=now, reports=len(reports), skipped_sources=skipped)
        if not reports:
            log.error("round %d: every source is down, nothing to submit", now)
            return result
        bundle = build_bundle(reports)
        options = self._gas_options(bundle)
        receipt = self.oracle.update(bundle, sender=self.sender, **options)
        self._last_timestamp = now
        result.tx_hash = str(receipt.txn_hash)
        result.events = [_describe(e) for e in receipt.events if e.event_name != "PriceReported"]
        log.info(
            "round %d: %d reports from %d sources, gas %d, tx %s%s",
            now,
            len(reports),
            len(self.reporters) - len(skipped),
            receipt.gas_used,
            result.tx_hash,
            "".join(f"\n  {line}" for line in result.events),
        )
        return result

    def _gas_options(self, bundle: list[BundleEntry]) -> dict[str, int]:
        """A gas limit with headroom from a raw ``eth_estimateGas``; {} (provider default) if it reverts.

        web3 is used directly: ape's estimate path mis-decodes custom-error reverts here, and a reverting
        bundle is better reported by sending it through ape, which names the error.
        """
        web3 = self.oracle.provider.web3
        call = {"from": self.sender.address, "to": self.oracle.address, "data": self.oracle.update.encode_input(bundle)}
        try:
            estimate = web3.eth.estimate_gas(call)
        except (ValueError, Web3Exception) as err:
            log.debug("gas estimate reverted (%s); letting the provider estimate", err)
            return {}
        return {"gas_limit": gas_with_headroom(estimate, len(bundle))}

    def run(self, interval_s: float = 1.0, iterations: int = 0, sleep: Callable[[float], None] = time.sleep) -> int:
        """Tick every ``interval_s`` seconds, ``iterations`` times (0 = forever); returns rounds submitted.

        A failed round (reverted or rejected transaction) is logged and the loop goes on.
        """
        submitted = 0
        done = 0
        while iterations == 0 or done < iterations:
            started = time.monotonic()
            try:
                if (result := self.tick()) is not None and result.tx_hash:
                    submitted += 1
            except Exception as err:  # keep the keeper alive; the error is logged with its reason
                log.error("round failed: %s: %s", type(err).__name__, err)
            done += 1
            if iterations == 0 or done < iterations:
                sleep(max(0.0, interval_s - (time.monotonic() - started)))
        return submitted


def _describe(event: Any) -> str:
    args = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in event.event_arguments.items()}
    return f"{event.event_name} {args}"
