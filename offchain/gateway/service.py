"""The gateway's core, independent of HTTP: checks a signed order, hands it to the matcher and fans the
matcher's outputs out to order records, fill history, market-data streams and the batch submitter.

Everything here runs on one asyncio loop (the matcher is not thread-safe); only chain reads, which may
block, go to worker threads, and their answers are cached for ``cache_ttl`` seconds.

Order acceptance, in order (each refusal names its reason):

1. the order is for this gateway's EIP-712 domain (chain id, Settlement contract);
2. the via-API flag (16) is set: it is part of the signed struct, so the gateway cannot add it; an order
   without it is refused with a message saying to set it (API orders get the API fee discount);
3. the signature recovers (offchain.orders, OpenZeppelin ECDSA rules) to the trader or to a delegate whose on-chain
   ``Settlement.delegateExpiry`` is in the future (the delegation is then mirrored into the matcher);
4. the account's rate limit;
5. the compliance registry allows the trader;
6. the matcher's own entry checks (market, grid, leverage, expiry, duplicate, ...) and matching.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from eth_utils import to_checksum_address

from offchain.gateway.reader import AccountState, ChainReader
from offchain.gateway.streams import Hub
from offchain.matcher.engine import DepthUpdate, Fill, Matcher, OrderUpdate, Output
from offchain.monitoring.metrics import GatewayMetrics, MatcherMetrics
from offchain.orders.order import FLAG_VIA_API, SignedOrder
from offchain.orders.signing import SignatureError, recover_signer_bytes

TERMINAL = frozenset({"filled", "cancelled", "rejected"})


class GatewayError(Exception):
    """A refusal with an HTTP status, a short machine code and a message for humans."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class OrderRecord:
    hash: bytes
    signed: SignedOrder
    remaining: int
    status: str
    reason: str
    created: int
    updated: int


@dataclass(frozen=True)
class FillRecord:
    fill: Fill
    timestamp: int


@dataclass
class _Cache:
    ttl: float
    values: OrderedDict[Any, tuple[float, Any]] = field(default_factory=OrderedDict)
    max_keys: int = 100_000

    def get(self, key: Any, now: float) -> tuple[bool, Any]:
        hit = self.values.get(key)
        if hit is None or hit[0] <= now:
            return False, None
        return True, hit[1]

    def put(self, key: Any, value: Any, now: float) -> None:
        self.values[key] = (now + self.ttl, value)
        self.values.move_to_end(key)
        while len(self.values) > self.max_keys:
            self.values.popitem(last=False)


BlockingRunner = Callable[..., Awaitable[Any]]


async def _run_in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await to_thread.run_sync(fn, *args)


class ExchangeService:
    """Matcher + chain reader + streams. ``clock`` returns unix seconds (float)."""

    def __init__(
        self,
        matcher: Matcher,
        reader: ChainReader,
        *,
        symbols: dict[int, str] | None = None,
        cache_ttl: float = 5.0,
        history: int = 1000,
        clock: Callable[[], float] = time.time,
        gateway_metrics: GatewayMetrics | None = None,
        matcher_metrics: MatcherMetrics | None = None,
        fill_sinks: Iterable[Callable[[Fill], None]] = (),
        run_blocking: BlockingRunner = _run_in_thread,
        max_queue: int = 1000,
    ) -> None:
        self.matcher = matcher
        self.reader = reader
        self.domain = matcher.domain
        self.symbols = symbols or {}
        self.clock = clock
        self.history = history
        self.gm = gateway_metrics
        self.mm = matcher_metrics
        self.fill_sinks = list(fill_sinks)
        self.run_blocking = run_blocking
        self.hub = Hub(max_queue=max_queue)
        self.orders: dict[bytes, OrderRecord] = {}
        self.open_by_trader: dict[str, dict[bytes, OrderRecord]] = {}
        self.closed_by_trader: dict[str, deque[bytes]] = {}
        self.fills_by_trader: dict[str, deque[FillRecord]] = {}
        self.depth_seq: dict[int, int] = dict.fromkeys(matcher.markets, 0)
        self._allowed = _Cache(cache_ttl)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._delegates = _Cache(cache_ttl)
        self._seed_from_matcher()

    def _seed_from_matcher(self) -> None:
        """Order records for the orders resting in a matcher recovered from its journal (restart)."""
        now = self.now()
        for market in self.matcher.markets.values():
            lot = market.config.lot_size_x18
            bids, asks = market.book.levels()
            for _, entries in [*bids, *asks]:
                for oid, remaining_lots in entries:
                    signed = self.matcher.live.get(oid)
                    if signed is None:
                        continue
                    remaining = remaining_lots * lot
                    status = "accepted" if remaining == signed.order.size else "partially_filled"
                    record = OrderRecord(signed.hash, signed, remaining, status, "", now, now)
                    self.orders[signed.hash] = record
                    self.open_by_trader.setdefault(signed.order.trader, {})[signed.hash] = record

    def _inc(self, metric: Any, *labels: str) -> None:
        """``metric.labels(*labels).inc()`` with the labelled child cached (the hot path counts several)."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        child.inc()

    def now(self) -> int:
        return int(self.clock())

    # ------------------------------------------------------------------ chain reads (cached)

    async def is_allowed(self, account: str) -> bool:
        now = self.clock()
        hit, value = self._allowed.get(account, now)
        if not hit:
            value = bool(await self.run_blocking(self.reader.is_allowed, account))
            self._allowed.put(account, value, now)
        return value

    async def delegate_expiry(self, trader: str, delegate: str) -> int:
        now = self.clock()
        hit, value = self._delegates.get((trader, delegate), now)
        if not hit:
            value = int(await self.run_blocking(self.reader.delegate_expiry, trader, delegate))
            self._delegates.put((trader, delegate), value, now)
        return value

    async def account_states(self, account: str) -> list[AccountState]:
        return list(await self.run_blocking(self.reader.account_states, account))

    # ------------------------------------------------------------------ orders

    def _reject(self, status: int, code: str, message: str) -> GatewayError:
        if self.gm is not None:
            self._inc(self.gm.orders_in, "rejected")
            self._inc(self.gm.rejects, code)
        return GatewayError(status, code, message)

    async def authenticate_order(self, signed: SignedOrder) -> str:
        """Steps 1-3: domain, via-API flag, signature; returns the signer (trader or live delegate)."""
        order = signed.order
        if signed.domain != self.domain:
            raise self._reject(400, "wrong_domain", f"order signed for {signed.domain}, this gateway is {self.domain}")
        if not order.flags & FLAG_VIA_API:
            raise self._reject(
                400,
                "via_api_flag_required",
                "orders sent through the API must set flags bit 16 (via API) and be signed with it",
            )
        try:
            signer_bytes = recover_signer_bytes(signed.hash, signed.signature)
        except SignatureError as exc:
            raise self._reject(401, "bad_signature", f"bad signature: {exc}") from None
        if signer_bytes == bytes.fromhex(order.trader[2:]):
            return order.trader
        signer = to_checksum_address(signer_bytes)
        expiry = await self.delegate_expiry(order.trader, signer)
        if expiry <= self.now():
            raise self._reject(
                401, "bad_signature", f"signer {signer} is neither the trader nor a live delegate (API key) of it"
            )
        if self.matcher.delegates.get(order.trader, {}).get(signer) != expiry:
            # Mirror the on-chain API-key authorisation so the matcher's own signature check accepts it.
            self._publish(self.matcher.authorize_delegate(order.trader, signer, expiry))
        return signer

    async def check_compliance(self, trader: str) -> None:
        """Step 5: the compliance registry."""
        if not await self.is_allowed(trader):
            raise self._reject(403, "compliance", f"account {trader} is not allowed to trade (compliance registry)")

    def submit_checked(self, signed: SignedOrder) -> tuple[OrderRecord, list[FillRecord]]:
        """Step 6 for an order that passed steps 1-5: the matcher; a matcher rejection raises 400."""
        now = self.now()
        outputs = self.matcher.submit(signed, now)
        if self.mm is not None:
            self._inc(self.mm.events, "submit")
        first = next((o for o in outputs if isinstance(o, OrderUpdate) and o.order_hash == signed.hash), None)
        if first is not None and first.status == "rejected":
            # Entry refusals (and a post-only order that would cross) produce only this update; it must not
            # touch the record of an earlier order with the same hash (duplicate submission).
            if self.mm is not None:
                self._inc(self.mm.order_updates, "rejected")
            self._publish([o for o in outputs if not (isinstance(o, OrderUpdate) and o.order_hash == signed.hash)])
            raise self._reject(400, "rejected", first.reason or "rejected by the matcher")
        record = OrderRecord(signed.hash, signed, signed.order.size, "accepted", "", now, now)
        self.orders[signed.hash] = record
        self.open_by_trader.setdefault(signed.order.trader, {})[signed.hash] = record
        fills = self._publish(outputs)
        if self.gm is not None:
            self._inc(self.gm.orders_in, "accepted")
        return record, fills

    async def submit(self, signed: SignedOrder) -> tuple[OrderRecord, list[FillRecord]]:
        """Steps 1-6 without the rate limit (the HTTP layer charges the account between 3 and 5)."""
        await self.authenticate_order(signed)
        await self.check_compliance(signed.order.trader)
        return self.submit_checked(signed)

    def cancel(self, order_hash: bytes, trader: str) -> OrderRecord:
        record = self.orders.get(order_hash)
        if record is None or record.signed.order.trader != trader:
            raise GatewayError(404, "unknown_order", f"no order 0x{order_hash.hex()} of {trader}")
        if record.status in TERMINAL:
            raise GatewayError(409, "order_not_open", f"order is {record.status}, not open")
        outputs = self.matcher.cancel(order_hash, trader, self.now())
        if self.mm is not None:
            self._inc(self.mm.events, "cancel")
        self._publish(outputs)
        return record

    def cancel_all(self, trader: str, market_id: int | None) -> list[bytes]:
        if market_id is not None and market_id not in self.matcher.markets:
            raise GatewayError(404, "unknown_market", f"unknown market {market_id}")
        outputs = self.matcher.cancel_all(trader, self.now(), market_id)
        if self.mm is not None:
            self._inc(self.mm.events, "cancel_all")
        self._publish(outputs)
        return [o.order_hash for o in outputs if isinstance(o, OrderUpdate) and o.status == "cancelled"]

    def needs_expire(self, now: int) -> bool:
        """True when a live order has expired or was signed by a delegate whose authorisation lapsed (each
        matcher expire tick is a journal record: it is only sent when it has something to do)."""
        m = self.matcher
        for oid, signed in m.live.items():
            if signed.order.expiry <= now:
                return True
            signer = m.signer_of.get(oid, signed.order.trader)
            if signer != signed.order.trader and m.delegates.get(signed.order.trader, {}).get(signer, 0) <= now:
                return True
        return False

    def expire(self) -> None:
        """Clock tick: the matcher cancels expired orders and orders of lapsed delegates."""
        if not self.needs_expire(self.now()):
            return
        outputs = self.matcher.expire(self.now())
        if self.mm is not None:
            self._inc(self.mm.events, "expire")
        self._publish(outputs)

    # ------------------------------------------------------------------ queries

    def open_orders(self, trader: str, market_id: int | None = None) -> list[OrderRecord]:
        records = self.open_by_trader.get(trader, {}).values()
        return [r for r in records if market_id is None or r.signed.order.marketId == market_id]

    def recent_orders(self, trader: str) -> list[OrderRecord]:
        closed = [self.orders[h] for h in self.closed_by_trader.get(trader, ()) if h in self.orders]
        return self.open_orders(trader) + closed[::-1]

    def order(self, order_hash: bytes, trader: str) -> OrderRecord:
        record = self.orders.get(order_hash)
        if record is None or record.signed.order.trader != trader:
            raise GatewayError(404, "unknown_order", f"no order 0x{order_hash.hex()} of {trader}")
        return record

    def fills(self, trader: str, limit: int) -> list[FillRecord]:
        return list(self.fills_by_trader.get(trader, ()))[::-1][:limit]

    def book(self, market_id: int, depth: int) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        if market_id not in self.matcher.markets:
            raise GatewayError(404, "unknown_market", f"unknown market {market_id}")
        bids, asks = self.matcher.depth(market_id, depth)
        return self.depth_seq[market_id], bids, asks

    # ------------------------------------------------------------------ outputs -> state and streams

    def _publish(self, outputs: list[Output]) -> list[FillRecord]:
        now = self.now()
        fills: list[FillRecord] = []
        for out in outputs:
            if isinstance(out, OrderUpdate):
                self._on_update(out, now)
            elif isinstance(out, Fill):
                fills.append(self._on_fill(out, now))
            elif isinstance(out, DepthUpdate):
                self._on_depth(out)
        return fills

    def _on_update(self, upd: OrderUpdate, now: int) -> None:
        if self.mm is not None:
            self._inc(self.mm.order_updates, upd.status)
        record = self.orders.get(upd.order_hash)
        if record is None:
            return
        record.status, record.remaining, record.reason, record.updated = upd.status, upd.remaining_x18, upd.reason, now
        trader = record.signed.order.trader
        if upd.status in TERMINAL:
            self.open_by_trader.get(trader, {}).pop(upd.order_hash, None)
            closed = self.closed_by_trader.setdefault(trader, deque())
            closed.append(upd.order_hash)
            while len(closed) > self.history:
                self.orders.pop(closed.popleft(), None)
        topic = f"private:{trader.lower()}"
        if self.hub.has_subscribers(topic):
            self.hub.publish(topic, {"type": "order", **order_json(record)})

    def _on_fill(self, fill: Fill, now: int) -> FillRecord:
        rec = FillRecord(fill, now)
        if self.mm is not None:
            self._inc(self.mm.fills, str(fill.market_id))
        message = fill_json(rec)
        for trader in {fill.maker.order.trader, fill.taker.order.trader}:
            history = self.fills_by_trader.setdefault(trader, deque(maxlen=self.history))
            history.append(rec)
            topic = f"private:{trader.lower()}"
            if self.hub.has_subscribers(topic):
                self.hub.publish(topic, {"type": "fill", **message})
        topic = f"trades:{fill.market_id}"
        if self.hub.has_subscribers(topic):
            self.hub.publish(
                topic,
                {
                    "type": "trade",
                    "marketId": fill.market_id,
                    "seq": fill.seq,
                    "price": str(fill.price_x18),
                    "size": str(fill.size_x18),
                    "takerIsBuy": fill.taker.order.isBuy,
                    "timestamp": now,
                },
            )
        for sink in self.fill_sinks:
            sink(fill)
        return rec

    def _on_depth(self, upd: DepthUpdate) -> None:
        seq = self.depth_seq[upd.market_id] = self.depth_seq.get(upd.market_id, 0) + 1
        if self.mm is not None:
            self._inc(self.mm.depth_updates, str(upd.market_id))
        topic = f"depth:{upd.market_id}"
        if self.hub.has_subscribers(topic):
            self.hub.publish(
                topic,
                {
                    "type": "depth",
                    "marketId": upd.market_id,
                    "seq": seq,
                    "side": "bid" if upd.is_bid else "ask",
                    "price": str(upd.price_x18),
                    "size": str(upd.total_x18),
                },
            )


def order_json(record: OrderRecord) -> dict[str, Any]:
    o = record.signed.order
    return {
        "hash": "0x" + record.hash.hex(),
        "trader": o.trader,
        "marketId": o.marketId,
        "isBuy": o.isBuy,
        "limitPrice": str(o.limitPrice),
        "size": str(o.size),
        "remaining": str(record.remaining),
        "status": record.status,
        "reason": record.reason,
        "createdAt": record.created,
        "updatedAt": record.updated,
    }


def fill_json(rec: FillRecord) -> dict[str, Any]:
    f = rec.fill
    return {
        "seq": f.seq,
        "marketId": f.market_id,
        "price": str(f.price_x18),
        "size": str(f.size_x18),
        "maker": f.maker.order.trader,
        "taker": f.taker.order.trader,
        "makerOrder": "0x" + f.maker.hash.hex(),
        "takerOrder": "0x" + f.taker.hash.hex(),
        "takerIsBuy": f.taker.order.isBuy,
        "timestamp": rec.timestamp,
    }
