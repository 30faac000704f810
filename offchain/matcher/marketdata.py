"""Market-data feed: an L2 depth view rebuilt from the matcher's incremental depth updates.

A subscriber starts from a top-N snapshot (:meth:`DepthView.from_snapshot`) or an empty book and
applies ``(is_bid, price, total)`` updates in order; a total of 0 removes the level. Prices and sizes
stay in ticks and lots here; :meth:`DepthView.top` converts with a market's grid when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from offchain.matcher.book import EV_CANCELLED_DEPTH, EV_DEPTH, EV_RESTED


@dataclass
class DepthView:
    """Price level -> total size, per side, maintained from depth updates."""

    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    updates: int = 0

    @classmethod
    def from_snapshot(cls, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> DepthView:
        """Start from a ``MarketBook.depth(n)`` snapshot."""
        return cls(dict(bids), dict(asks))

    def apply(self, is_bid: bool, price: int, total: int) -> None:
        """Apply one incremental update."""
        side = self.bids if is_bid else self.asks
        if total:
            side[price] = total
        else:
            side.pop(price, None)
        self.updates += 1

    def apply_events(self, events: list[tuple]) -> None:
        """Apply every depth update of a matcher output batch (``EV_DEPTH`` and the depth half of the
        merged ``EV_RESTED`` / ``EV_CANCELLED_DEPTH`` tuples), ignoring the rest."""
        for ev in events:
            kind = ev[0]
            if kind == EV_DEPTH:
                self.apply(ev[1], ev[2], ev[3])
            elif kind == EV_RESTED:
                self.apply(ev[1][3], ev[1][4], ev[2])
            elif kind == EV_CANCELLED_DEPTH:
                self.apply(ev[4], ev[5], ev[6])

    def top(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels per side, best first."""
        bids = sorted(self.bids.items(), key=lambda kv: -kv[0])[:n]
        asks = sorted(self.asks.items())[:n]
        return bids, asks

    def best(self) -> tuple[int | None, int | None]:
        """Best bid and best ask price (ticks), ``None`` for an empty side."""
        return (max(self.bids) if self.bids else None, min(self.asks) if self.asks else None)
