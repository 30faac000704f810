"""Funding keeper: posts the fair contract price from the matcher's book and triggers funding.

Price sources (any ``Callable[[market], price | None]``):

- :func:`matcher_source`: the live :class:`offchain.matcher.engine.Matcher` in the same process (its
  top-of-book snapshot ``Matcher.depth(market, 1)``);
- :func:`matcher_state_source`: the state file the matcher process writes (``--state-out`` of
  ``python -m offchain.matcher.cli run``), loaded into a read-only matcher each round;
- :func:`book_file_source`: a JSON file of best levels (kept for books published by other tools).

The fair price is the size-weighted best bid/ask (the "microprice"): ``(bid * askSize + ask * bidSize) /
(bidSize + askSize)``. Before posting it is clamped into what FundingModule accepts (within
``maxDeviation`` of the index and ``maxStep`` of the last post), so a wild book cannot make the keeper's
transactions revert; the module enforces the same bounds on chain.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape.exceptions import ContractLogicError

from offchain.matcher.cli import load_config
from offchain.matcher.engine import Matcher

log = logging.getLogger("perpx.funding.keeper")

ONE = 10**18

Level = tuple[int, int]  # (price X18, size X18)


def fair_price(best_bid: Level | None, best_ask: Level | None) -> int | None:
    """Size-weighted mid of the best levels; the single side when one is empty; None for an empty book."""
    if best_bid and best_ask:
        (bid, bid_size), (ask, ask_size) = best_bid, best_ask
        if bid_size + ask_size == 0:
            return (bid + ask) // 2
        return (bid * ask_size + ask * bid_size) // (bid_size + ask_size)
    if best_bid:
        return best_bid[0]
    if best_ask:
        return best_ask[0]
    return None


def clamp_to_bounds(price: int, index: int, last: int, max_deviation: int, max_step: int) -> int:
    """The closest price to ``price`` inside both on-chain bands (exact integer bounds)."""
    lo = max(index - index * max_deviation // ONE, last - last * max_step // ONE)
    hi = min(index + index * max_deviation // ONE, last + last * max_step // ONE)
    if lo > hi:  # bands disjoint (index jumped): move toward the index by one step
        return hi if index > last else lo
    return max(lo, min(hi, price))


def book_file_source(path: Path) -> Callable[[int], int | None]:
    """A price source reading ``{"<market>": {"bid": [price, size], "ask": [price, size]}}`` (X18 ints),
    the best levels the matcher publishes."""

    def source(market: int) -> int | None:
        try:
            book = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.warning("cannot read book file %s: %s", path, exc)
            return None
        entry = book.get(str(market))
        if not entry:
            return None
        bid = tuple(entry["bid"]) if entry.get("bid") else None
        ask = tuple(entry["ask"]) if entry.get("ask") else None
        return fair_price(bid, ask)

    return source


def matcher_source(matcher: Matcher) -> Callable[[int], int | None]:
    """A price source over a live matcher: the fair price of its best bid and ask (X18)."""

    def source(market: int) -> int | None:
        if market not in matcher.markets:
            log.warning("market %d is not configured in the matcher", market)
            return None
        bids, asks = matcher.depth(market, 1)
        return fair_price(bids[0] if bids else None, asks[0] if asks else None)

    return source


def matcher_state_source(config_path: Path, state_path: Path) -> Callable[[int], int | None]:
    """A price source over the matcher process's state file (re-read every call): the matcher's markets
    come from its ``--config`` file, the book from the exported state."""
    domain, markets = load_config(config_path)

    def source(market: int) -> int | None:
        try:
            state = json.loads(state_path.read_text())
        except (OSError, ValueError) as exc:
            log.warning("cannot read matcher state %s: %s", state_path, exc)
            return None
        matcher = Matcher(domain, markets, verify_signatures=False)
        matcher.load_state(state)
        return matcher_source(matcher)(market)

    return source


@dataclass
class FundingKeeper:
    """Posts prices and triggers funding for ``markets`` on one FundingModule."""

    module: Any
    oracle: Any
    registry: Any
    sender: Any
    markets: list[int]
    price_source: Callable[[int], int | None]
    dry_run: bool = False
    stats: dict[str, int] = field(default_factory=lambda: {"posts": 0, "updates": 0, "failures": 0})

    def _send(self, what: str, fn: Any, *args: Any) -> bool:
        if self.dry_run:
            log.info("dry-run: would %s %s", what, args)
            return False
        try:
            fn(*args, sender=self.sender)
        except ContractLogicError as exc:
            self.stats["failures"] += 1
            log.warning("%s%s failed: %s", what, args, exc)
            return False
        log.info("%s %s", what, args)
        return True

    def post(self, market: int) -> int | None:
        """Post the clamped fair price of ``market``; returns the price posted (None if skipped)."""
        raw = self.price_source(market)
        if raw is None:
            log.info("market %d: empty book, nothing to post", market)
            return None
        cfg = self.module.configs(market)
        state = self.module.states(market)
        asset = self.registry.marginInfo(market)[0]
        index = int(self.oracle.getPrice(asset)[0])
        price = clamp_to_bounds(raw, index, int(state.lastPriceX18), int(cfg.maxDeviationX18), int(cfg.maxStepX18))
        if price != raw:
            log.warning("market %d: book price %d clamped to %d (index %d)", market, raw, price, index)
        if self._send("postContractPrice", self.module.postContractPrice, market, price):
            self.stats["posts"] += 1
        return price

    def update_if_due(self, market: int, now: int) -> bool:
        """Trigger funding when an interval has elapsed."""
        due, _open_at = self.module.nextUpdate(market)
        if now < int(due):
            return False
        ok = self._send("updateFunding", self.module.updateFunding, market)
        if ok:
            self.stats["updates"] += 1
        return ok

    def tick(self, now: int) -> None:
        """Post every market's price, then update those due."""
        for m in self.markets:
            self.post(m)
            self.update_if_due(m, now)
        log.info("posts=%d updates=%d failures=%d", self.stats["posts"], self.stats["updates"], self.stats["failures"])
