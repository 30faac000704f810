"""A reporter: one oracle source that reads its feed and signs a report per asset."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from offchain.oracle.feeds import FeedError, PriceFeed
from offchain.oracle.signing import ReportSigner, SignedReport, asset_id

log = logging.getLogger("perpx.oracle.reporter")


@dataclass
class Reporter:
    """Signs what ``feed`` says for each asset; a feed failure skips that asset (logged), never the others."""

    name: str
    signer: ReportSigner
    feed: PriceFeed

    def report(self, symbols: Sequence[str], now: int) -> list[SignedReport]:
        """Signed reports at timestamp ``now`` for every symbol the feed can price."""
        reports = []
        for symbol in symbols:
            try:
                price = self.feed.price_x18(symbol, now)
            except FeedError as err:
                log.warning("source %s (%s) skipped %s: %s", self.name, self.signer.address, symbol, err)
                continue
            reports.append(self.signer.sign(asset_id(symbol), price, now))
            log.debug("source %s signed %s = %s at %d", self.name, symbol, price, now)
        return reports
