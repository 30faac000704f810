"""The matcher: entry checks on signed orders, units to ticks/lots, journal, books, typed outputs.

Flow of one input event:

1. Entry checks (not journaled when they fail; a bad signature never reaches a book): EIP-712
   signature of the trader or an authorised delegate under OpenZeppelin ECDSA rules, domain,
   known market, leverage, leg, flags, size on the lot grid, price on the tick grid, fee cap,
   expiry, duplicate hash.
2. The accepted event is appended to the :class:`~offchain.matcher.journal.Journal` (if any).
3. It is applied to the market's :class:`~offchain.matcher.book.MarketBook`, deterministically:
   no wall clock, no randomness; replaying the journal rebuilds the same books and the same
   fill sequence numbers.
4. The book's compact events are translated into :class:`Fill`, :class:`OrderUpdate` and
   :class:`DepthUpdate` objects in X18 units; a fill carries both signed orders, the size and the
   maker's limit price, ready for the batch submitter.

Grid rules: ``size`` must be a positive multiple of the market's lot size and ``limitPrice`` a
positive multiple of its tick size. Exception for orders that can never rest (IOC, FOK, i.e. market
orders with a far limit): an off-grid limit is rounded toward the trader's safety (buy: down,
sell: up), which only ever narrows what the trader accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from offchain.matcher import book as bk
from offchain.matcher.book import MarketBook
from offchain.matcher.journal import Journal
from offchain.orders.order import (
    ALL_FLAGS,
    FLAG_FOK,
    FLAG_IOC,
    FLAG_POST_ONLY,
    MAX_LEVERAGE,
    ONE_X18,
    Domain,
    SignedOrder,
)
from offchain.orders.signing import SignatureError, recover_signer, verify_signed_order

R_DELEGATE_GONE = "signing delegate revoked or expired"
R_NONCE = "cancelled below nonce"


@dataclass(frozen=True)
class MarketConfig:
    """Grid of one market: ``tick_size_x18`` (USD per base unit) and ``lot_size_x18`` (base units)."""

    market_id: int
    tick_size_x18: int
    lot_size_x18: int
    max_leverage: int = MAX_LEVERAGE

    def __post_init__(self) -> None:
        if self.tick_size_x18 <= 0 or self.lot_size_x18 <= 0:
            raise ValueError(f"market {self.market_id}: tick and lot sizes must be positive")
        if not 1 <= self.max_leverage <= MAX_LEVERAGE:
            raise ValueError(f"market {self.market_id}: max_leverage must be 1..{MAX_LEVERAGE}")


@dataclass(frozen=True)
class Fill:
    """One trade for the batch submitter: both signed orders, size and price in X18 (maker's price)."""

    seq: int
    market_id: int
    maker: SignedOrder
    taker: SignedOrder
    size_x18: int
    price_x18: int


@dataclass(frozen=True)
class OrderUpdate:
    """An order state change: accepted, rejected, partially_filled, filled, cancelled or reduced."""

    order_hash: bytes
    status: str
    remaining_x18: int = 0
    reason: str = ""


@dataclass(frozen=True)
class DepthUpdate:
    """Incremental market data: the new total size at one price level (0 removes the level)."""

    market_id: int
    is_bid: bool
    price_x18: int
    total_x18: int


Output = Fill | OrderUpdate | DepthUpdate


@dataclass
class _MarketState:
    config: MarketConfig
    book: MarketBook = field(default_factory=MarketBook)


class EntryRejected(ValueError):
    """An input refused at entry (never journaled, never reaches a book)."""


class Matcher:
    """All markets of one deployment. Not thread-safe: one instance consumes one input stream."""

    def __init__(
        self,
        domain: Domain,
        markets: Iterable[MarketConfig],
        journal: Journal | None = None,
        snapshot_every: int = 0,
        verify_signatures: bool = True,
    ) -> None:
        self.domain = domain
        self.markets: dict[int, _MarketState] = {m.market_id: _MarketState(m) for m in markets}
        self.journal = journal
        self.delegates: dict[str, dict[str, int]] = {}  # trader -> delegate -> authorisation expiry
        self.nonce_floor: dict[str, int] = {}  # trader -> orders with a lower nonce are invalid
        self.signer_of: dict[int, str] = {}  # oid -> signer (trader or delegate), for live orders
        self.snapshot_every = snapshot_every
        self.verify_signatures = verify_signatures
        self.trader_ids: dict[str, int] = {}
        self.traders: list[str] = []
        self.live: dict[int, SignedOrder] = {}  # oid -> signed order (resting or being processed)
        self.oid_of: dict[bytes, int] = {}  # order hash -> oid, for live orders
        self.market_of: dict[int, int] = {}  # oid -> market id, for live orders
        # hash -> expiry of every accepted order not yet expired: no resubmission. Pruned by expire():
        # an expired order is refused by the expiry check anyway (gateway time never goes back).
        self.seen: dict[bytes, int] = {}
        self.next_oid = 1
        self.next_fill_seq = 1
        self.applied_seq = 0  # last journal seq applied
        self.source_seq = 0  # highest upstream sequence number applied (resume point for a feeder)

    # ------------------------------------------------------------------ entry

    def check_order(self, signed: SignedOrder, now: int) -> tuple[int, int]:
        """Entry checks; returns ``(price_ticks, size_lots)`` or raises :class:`EntryRejected`."""
        order = signed.order
        if self.verify_signatures:
            granted = self.delegates.get(order.trader)
            valid = frozenset(d for d, until in granted.items() if until > now) if granted else frozenset()
            try:
                verify_signed_order(signed, self.domain, valid)
            except SignatureError as exc:
                raise EntryRejected(f"bad signature: {exc}") from None
        if order.nonce < self.nonce_floor.get(order.trader, 0):
            raise EntryRejected(f"nonce {order.nonce} below the trader's cancelled-below nonce")
        market = self.markets.get(order.marketId)
        if market is None:
            raise EntryRejected(f"unknown market {order.marketId}")
        cfg = market.config
        if not 1 <= order.leverage <= cfg.max_leverage:
            raise EntryRejected(f"leverage {order.leverage} outside 1..{cfg.max_leverage}")
        if order.leg > 2:
            raise EntryRejected(f"leg {order.leg} is not 0 (one-way), 1 (long) or 2 (short)")
        if order.flags & ~ALL_FLAGS:
            raise EntryRejected(f"unknown flag bits {order.flags & ~ALL_FLAGS:#x}")
        if order.flags & FLAG_IOC and order.flags & FLAG_FOK:
            raise EntryRejected("IOC and FOK are exclusive")
        if order.flags & FLAG_POST_ONLY and order.flags & (FLAG_IOC | FLAG_FOK):
            raise EntryRejected("post-only cannot be IOC or FOK")
        if order.maxFeeRate > ONE_X18:
            raise EntryRejected(f"maxFeeRate {order.maxFeeRate} above 100%")
        if order.expiry <= now:
            raise EntryRejected(f"expired at {order.expiry} (now {now})")
        if order.size == 0 or order.size % cfg.lot_size_x18:
            raise EntryRejected(f"size {order.size} is not a positive multiple of the lot size {cfg.lot_size_x18}")
        if order.limitPrice == 0:
            raise EntryRejected("limitPrice must be positive")
        ticks, off_grid = divmod(order.limitPrice, cfg.tick_size_x18)
        if off_grid:
            if not order.flags & (FLAG_IOC | FLAG_FOK):
                raise EntryRejected(
                    f"limitPrice {order.limitPrice} is not a multiple of the tick size {cfg.tick_size_x18}"
                )
            if not order.isBuy:
                ticks += 1  # a sell's limit rounds up: never accept less than signed
            elif ticks == 0:
                raise EntryRejected("limitPrice below one tick")
        if signed.hash in self.seen:
            raise EntryRejected("duplicate order (this hash was already accepted)")
        return ticks, order.size // cfg.lot_size_x18

    # ------------------------------------------------------------------ public inputs

    def submit(self, signed: SignedOrder, now: int, source_seq: int = 0) -> list[Output]:
        """Check, journal and match one signed order; returns the outputs it produced."""
        try:
            self.check_order(signed, now)
        except EntryRejected as exc:
            return [OrderUpdate(signed.hash, "rejected", 0, str(exc))]
        signer = signed.order.trader
        if self.verify_signatures and self.delegates.get(signer):
            signer = recover_signer(signed.hash, signed.signature)
        record = {"t": "order", "o": signed.to_json(), "signer": signer, "at": now, "src": source_seq}
        return self._accept(record, signed)

    def authorize_delegate(self, trader: str, delegate: str, expiry: int, source_seq: int = 0) -> list[Output]:
        """Mirror an on-chain API-key authorisation: ``delegate`` may sign ``trader``'s orders until ``expiry``."""
        record = {"t": "delegate", "trader": to_checksum_address(trader), "delegate": to_checksum_address(delegate)}
        return self._accept({**record, "until": expiry, "src": source_seq})

    def revoke_delegate(self, trader: str, delegate: str, source_seq: int = 0) -> list[Output]:
        """Mirror an on-chain revocation; live orders the delegate signed are cancelled."""
        return self.authorize_delegate(trader, delegate, 0, source_seq)

    def cancel_below_nonce(self, trader: str, nonce: int, source_seq: int = 0) -> list[Output]:
        """Mirror an on-chain "cancel everything below a nonce": live orders below it are cancelled."""
        return self._accept({"t": "nonce_floor", "trader": to_checksum_address(trader), "nonce": nonce,
                             "src": source_seq})  # fmt: skip

    def cancel(self, order_hash: bytes, trader: str, now: int, source_seq: int = 0) -> list[Output]:
        """Cancel a live order of ``trader`` (the gateway authenticated the request)."""
        oid = self.oid_of.get(order_hash)
        if oid is None:
            return [OrderUpdate(order_hash, "rejected", 0, "cancel: unknown or inactive order")]
        if self.live[oid].order.trader.lower() != trader.lower():
            return [OrderUpdate(order_hash, "rejected", 0, "cancel: not the order's trader")]
        return self._accept({"t": "cancel", "h": "0x" + order_hash.hex(), "at": now, "src": source_seq})

    def cancel_all(self, trader: str, now: int, market_id: int | None = None, source_seq: int = 0) -> list[Output]:
        """Cancel every live order of ``trader`` (in one market, or all)."""
        trader = to_checksum_address(trader)
        return self._accept({"t": "cancel_all", "trader": trader, "m": market_id, "at": now, "src": source_seq})

    def set_position(self, trader: str, market_id: int, leg: int, size_x18: int, source_seq: int = 0) -> list[Output]:
        """Load a trader's signed position (X18, on the lot grid) for reduce-only sizing."""
        cfg = self.markets[market_id].config
        if size_x18 % cfg.lot_size_x18:
            raise EntryRejected(f"position {size_x18} is not on the lot grid {cfg.lot_size_x18}")
        trader = to_checksum_address(trader)
        return self._accept({"t": "position", "trader": trader, "m": market_id, "leg": leg, "size": size_x18,
                             "src": source_seq})  # fmt: skip

    def expire(self, now: int, source_seq: int = 0) -> list[Output]:
        """Cancel every resting order whose expiry is at or before ``now``."""
        return self._accept({"t": "expire", "at": now, "src": source_seq})

    # ------------------------------------------------------------------ apply (deterministic)

    def _accept(self, record: dict[str, Any], signed: SignedOrder | None = None) -> list[Output]:
        seq = self.journal.append(record) if self.journal is not None else self.applied_seq + 1
        outputs = self._apply(record, signed)
        self.applied_seq = seq
        if self.journal is not None and self.snapshot_every and seq % self.snapshot_every == 0:
            self.journal.write_snapshot(seq, self.export_state())
        return outputs

    def _trader_id(self, address: str) -> int:
        tid = self.trader_ids.get(address)
        if tid is None:
            tid = self.trader_ids[address] = len(self.traders)
            self.traders.append(address)
        return tid

    def _apply(self, record: dict[str, Any], signed: SignedOrder | None = None) -> list[Output]:
        """Apply one journal record; ``signed`` spares re-parsing the order when it is already at hand."""
        kind = record["t"]
        self.source_seq = max(self.source_seq, int(record.get("src", 0)))
        if kind == "order":
            if signed is None:
                signed = SignedOrder.from_json(record["o"])
            order = signed.order
            market = self.markets[order.marketId]
            cfg = market.config
            ticks, off = divmod(order.limitPrice, cfg.tick_size_x18)
            if off and not order.isBuy:
                ticks += 1
            oid = self.next_oid
            self.next_oid += 1
            self.seen[signed.hash] = order.expiry
            self.live[oid] = signed
            self.signer_of[oid] = record.get("signer", order.trader)
            self.oid_of[signed.hash] = oid
            self.market_of[oid] = order.marketId
            market.book.place(
                oid,
                self._trader_id(order.trader),
                order.isBuy,
                ticks,
                order.size // cfg.lot_size_x18,
                order.flags & 15,
                order.leg,
            )
            return self._drain(market)
        if kind == "cancel":
            oid = self.oid_of[bytes.fromhex(record["h"][2:])]
            market = self.markets[self.market_of[oid]]
            market.book.cancel(oid)
            return self._drain(market)
        if kind == "cancel_all":
            tid = self._trader_id(record["trader"])
            outputs: list[Output] = []
            for mid, market in sorted(self.markets.items()):
                if record["m"] is None or record["m"] == mid:
                    market.book.cancel_all(tid)
                    outputs += self._drain(market)
            return outputs
        if kind == "position":
            market = self.markets[record["m"]]
            market.book.set_position(
                self._trader_id(record["trader"]), record["leg"], record["size"] // market.config.lot_size_x18
            )
            return []
        if kind == "expire":
            now = record["at"]
            self.seen = {h: expiry for h, expiry in self.seen.items() if expiry > now}
            expired = {oid for oid, s in self.live.items() if s.order.expiry <= now}
            lapsed = {
                oid
                for oid, signer in self.signer_of.items()
                if signer != self.live[oid].order.trader
                and self.delegates.get(self.live[oid].order.trader, {}).get(signer, 0) <= now
            }
            return self._cancel_many(sorted(expired), bk.R_EXPIRED) + self._cancel_many(
                sorted(lapsed - expired), R_DELEGATE_GONE
            )
        if kind == "delegate":
            granted = self.delegates.setdefault(record["trader"], {})
            if record["until"]:
                granted[record["delegate"]] = record["until"]
                return []
            granted.pop(record["delegate"], None)
            gone = [oid for oid, signer in self.signer_of.items() if signer == record["delegate"]
                    and self.live[oid].order.trader == record["trader"]]  # fmt: skip
            return self._cancel_many(sorted(gone), R_DELEGATE_GONE)
        if kind == "nonce_floor":
            trader = record["trader"]
            self.nonce_floor[trader] = max(self.nonce_floor.get(trader, 0), record["nonce"])
            stale = [
                oid for oid, s in self.live.items() if s.order.trader == trader and s.order.nonce < record["nonce"]
            ]
            return self._cancel_many(sorted(stale), R_NONCE)
        raise ValueError(f"unknown journal record type {kind!r}")

    def _cancel_many(self, oids: list[int], reason: str) -> list[Output]:
        outputs: list[Output] = []
        for oid in oids:
            market = self.markets[self.market_of[oid]]
            market.book.cancel(oid, reason)
            outputs += self._drain(market)
        return outputs

    def _forget(self, oid: int) -> None:
        del self.signer_of[oid]
        signed = self.live.pop(oid)
        del self.oid_of[signed.hash]
        del self.market_of[oid]

    def _drain(self, market: _MarketState) -> list[Output]:
        """Translate the book's compact events into typed outputs (X18 units)."""
        cfg = market.config
        tick, lot = cfg.tick_size_x18, cfg.lot_size_x18
        live = self.live
        outputs: list[Output] = []
        for ev in market.book.out:
            kind = ev[0]
            if kind == bk.EV_FILL:
                _, maker_oid, taker_oid, px, qty, maker_rem, taker_rem = ev
                maker, taker = live[maker_oid], live[taker_oid]
                outputs.append(Fill(self.next_fill_seq, cfg.market_id, maker, taker, qty * lot, px * tick))
                self.next_fill_seq += 1
                outputs.append(OrderUpdate(maker.hash, "partially_filled" if maker_rem else "filled", maker_rem * lot))
                outputs.append(OrderUpdate(taker.hash, "partially_filled" if taker_rem else "filled", taker_rem * lot))
                if not maker_rem:
                    self._forget(maker_oid)
                if not taker_rem:
                    self._forget(taker_oid)
            elif kind == bk.EV_RESTED:  # accepted, then the depth of the level it rests on
                _, oid, _, is_bid, price, size, _, _ = ev[1]
                outputs.append(OrderUpdate(live[oid].hash, "accepted", size * lot))
                outputs.append(DepthUpdate(cfg.market_id, is_bid, price * tick, ev[2] * lot))
            elif kind == bk.EV_CANCELLED_DEPTH:  # cancelled, then the depth of the level it left
                outputs.append(OrderUpdate(live[ev[1]].hash, "cancelled", ev[2] * lot, ev[3]))
                outputs.append(DepthUpdate(cfg.market_id, ev[4], ev[5] * tick, ev[6] * lot))
                self._forget(ev[1])
            elif kind == bk.EV_DEPTH:
                outputs.append(DepthUpdate(cfg.market_id, ev[1], ev[2] * tick, ev[3] * lot))
            elif kind == bk.EV_ACCEPTED:
                outputs.append(OrderUpdate(live[ev[1]].hash, "accepted", ev[2] * lot))
            elif kind == bk.EV_REJECTED:
                outputs.append(OrderUpdate(live[ev[1]].hash, "rejected", 0, ev[2]))
                self._forget(ev[1])
            elif kind == bk.EV_CANCELLED:
                outputs.append(OrderUpdate(live[ev[1]].hash, "cancelled", ev[2] * lot, ev[3]))
                self._forget(ev[1])
            elif kind == bk.EV_REDUCED:
                outputs.append(OrderUpdate(live[ev[1]].hash, "reduced", ev[2] * lot, ev[3]))
        market.book.out.clear()
        return outputs

    # ------------------------------------------------------------------ queries, snapshots, recovery

    def depth(self, market_id: int, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels per side in X18 ``(price, total size)``, best first."""
        market = self.markets[market_id]
        tick, lot = market.config.tick_size_x18, market.config.lot_size_x18
        bids, asks = market.book.depth(n)
        return [(p * tick, q * lot) for p, q in bids], [(p * tick, q * lot) for p, q in asks]

    def export_state(self) -> dict[str, Any]:
        """Complete deterministic state (JSON-safe): what a snapshot stores."""
        return {
            "applied_seq": self.applied_seq,
            "source_seq": self.source_seq,
            "next_oid": self.next_oid,
            "next_fill_seq": self.next_fill_seq,
            "traders": list(self.traders),
            "seen": sorted(["0x" + h.hex(), expiry] for h, expiry in self.seen.items()),
            "live": [[oid, s.to_json(), self.signer_of[oid]] for oid, s in sorted(self.live.items())],
            "delegates": {t: dict(sorted(d.items())) for t, d in sorted(self.delegates.items()) if d},
            "nonce_floor": dict(sorted(self.nonce_floor.items())),
            "books": {str(mid): m.book.export_state() for mid, m in sorted(self.markets.items())},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`export_state` (markets must be configured identically)."""
        self.applied_seq = state["applied_seq"]
        self.source_seq = state["source_seq"]
        self.next_oid = state["next_oid"]
        self.next_fill_seq = state["next_fill_seq"]
        self.traders = list(state["traders"])
        self.trader_ids = {t: i for i, t in enumerate(self.traders)}
        self.seen = {bytes.fromhex(h[2:]): expiry for h, expiry in state["seen"]}
        self.live, self.oid_of, self.market_of, self.signer_of = {}, {}, {}, {}
        self.delegates = {t: dict(d) for t, d in state["delegates"].items()}
        self.nonce_floor = dict(state["nonce_floor"])
        for oid, data, signer in state["live"]:
            signed = SignedOrder.from_json(data)
            self.live[oid] = signed
            self.signer_of[oid] = signer
            self.oid_of[signed.hash] = oid
            self.market_of[oid] = signed.order.marketId
        for mid, book_state in state["books"].items():
            self.markets[int(mid)].book = MarketBook.from_state(book_state)

    @classmethod
    def recover(
        cls,
        directory: str | Path,
        domain: Domain,
        markets: Iterable[MarketConfig],
        acked_fill_seq: int | None = None,
        on_output: Callable[[Output], None] | None = None,
        **kwargs: Any,
    ) -> Matcher:
        """Rebuild a matcher from its journal directory and keep journaling there.

        Starts from the newest snapshot (or, when ``acked_fill_seq`` is given, the newest one whose
        next fill is at or before ``acked_fill_seq + 1``, so no unacknowledged fill is skipped),
        then replays the journal after it. Replayed outputs go to ``on_output``: the caller
        forwards fills with ``seq > acked_fill_seq`` to the batch submitter.
        """
        journal = Journal(directory, fsync=kwargs.pop("fsync", False))
        matcher = cls(domain, markets, journal=journal, **kwargs)
        chosen = None
        for path in reversed(journal.snapshots()):
            state = Journal.load_snapshot(path)
            if acked_fill_seq is None or state["next_fill_seq"] <= acked_fill_seq + 1:
                chosen = state
                break
        if chosen is not None:
            matcher.load_state(chosen)
        for seq, record in journal.records(after=matcher.applied_seq):
            outputs = matcher._apply(record)
            matcher.applied_seq = seq
            if on_output is not None:
                for out in outputs:
                    on_output(out)
        return matcher
