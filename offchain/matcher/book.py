"""The hot path: one market's price-time priority order book on integer ticks and lots.

Everything here is plain ints, lists, dicts and deques; no floats, no Decimal, no logging, and at
most one small tuple per output event. Signatures, units and the order struct are handled by
:mod:`offchain.matcher.engine` before an order reaches :meth:`MarketBook.place`.

Layout. Each side is ``(keys, queues, totals)``: ``keys`` is an ascending list of level keys with
the best level first, ``queues[key]`` a deque of order records in time order and ``totals[key]``
the level's live size. Asks use ``key = price``; bids use ``key = -price``, so both sides share
one matching routine ("an incoming order crosses a level when ``key <= limit_key``"). A level exists
exactly while its total is positive.

Order records are lists ``[oid, trader, price, remaining, is_buy, reduce_only, pos_key]``.
A cancel sets ``remaining`` to 0 and leaves the record in its deque ("lazy deletion"); the match
loop drops dead records when it reaches them and a level whose total reaches 0 is dropped whole.
(Trade-off: a level whose front order never trades keeps its cancelled records until it empties;
memory is bounded by the cancels at that level, and the match loop skips them in O(1) each.)

Policies (documented for traders):
- A fill executes at the resting (maker) order's price.
- Self-trade prevention: cancel the resting order (``R_SELF_TRADE``); the incoming order goes
  on matching. A fill-or-kill that cannot fill leaves the book untouched, self orders included.
- Post-only orders that would cross are rejected, not repriced.
- Reduce-only orders are clipped on entry to what reduces the trader's position in that leg (as the
  matcher knows it: initial positions via :meth:`MarketBook.set_position`, then its own fills) and
  rejected when nothing can be reduced. A resting reduce-only order is clipped again when it is
  reached if the position has shrunk meanwhile (event ``REDUCED``), or cancelled if it is flat.
- IOC and FOK never rest: an IOC remainder is cancelled; a FOK that cannot fill entirely is
  rejected with no state change.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable
from typing import Any

# Output events, appended to ``MarketBook.out`` as tuples.
EV_ACCEPTED = 0  # (EV_ACCEPTED, oid, size_lots)
EV_REJECTED = 1  # (EV_REJECTED, oid, reason)
EV_FILL = 2  # (EV_FILL, maker_oid, taker_oid, price_ticks, size_lots, maker_remaining, taker_remaining)
EV_CANCELLED = 3  # (EV_CANCELLED, oid, remaining_lots, reason)
EV_REDUCED = 4  # (EV_REDUCED, oid, new_remaining_lots, reason)
EV_DEPTH = 5  # (EV_DEPTH, is_bid, price_ticks, level_total_lots)

# Input kinds for :meth:`MarketBook.apply`.
EV_PLACE = 0
EV_CANCEL = 1

EVENT_NAMES = {
    EV_ACCEPTED: "accepted",
    EV_REJECTED: "rejected",
    EV_FILL: "fill",
    EV_CANCELLED: "cancelled",
    EV_REDUCED: "reduced",
    EV_DEPTH: "depth",
}

# Flags (the same bits as the signed order's ``flags``).
F_REDUCE_ONLY = 1
F_POST_ONLY = 2
F_IOC = 4
F_FOK = 8

# Reasons (module constants so the hot path never builds strings).
R_POST_ONLY = "post-only order would cross"
R_FOK = "fill-or-kill cannot fill entirely"
R_REDUCE_ONLY = "reduce-only order would not reduce the position"
R_IOC = "immediate-or-cancel remainder"
R_SELF_TRADE = "self-trade prevention: resting order cancelled"
R_USER = "cancelled by trader"
R_CANCEL_ALL = "cancel-all by trader"
R_UNKNOWN = "cancel: unknown or inactive order"
R_RO_SHRUNK = "reduce-only order exceeds the position"
R_EXPIRED = "order expired"

# Record fields.
OID, TRADER, PRICE, REMAINING, IS_BUY, REDUCE_ONLY, POS_KEY = range(7)

LEGS_PER_TRADER = 4  # pos_key = trader * 4 + leg (legs 0..2)


class MarketBook:
    """One market's book. Callers read and clear :attr:`out` after each call (or batch of calls)."""

    __slots__ = ("asks", "bids", "orders", "out", "pos")

    def __init__(self) -> None:
        self.bids: tuple[list[int], dict[int, deque], dict[int, int]] = ([], {}, {})
        self.asks: tuple[list[int], dict[int, deque], dict[int, int]] = ([], {}, {})
        self.orders: dict[int, list] = {}
        self.pos: dict[int, int] = {}
        self.out: list[tuple] = []

    # ------------------------------------------------------------------ hot path

    def place(self, oid: int, trader: int, is_buy: bool, price: int, qty: int, flags: int, leg: int) -> None:
        """Match an incoming order (ticks, lots) and rest any GTC remainder.

        ``oid`` must be new (the engine assigns them); ``trader`` is a small int id; ``leg`` 0..2.
        """
        self.apply(((EV_PLACE, oid, trader, is_buy, price, qty, flags, leg),))

    def cancel(self, oid: int, reason: str = R_USER) -> None:
        """Cancel a resting order; an unknown or finished ``oid`` yields ``EV_REJECTED``."""
        self.apply(((EV_CANCEL, oid, reason, False, 0, 0, 0, 0),))

    def apply(self, events: Iterable[tuple]) -> None:
        """Process a batch of input tuples in order (the whole matching logic lives here).

        ``(EV_PLACE, oid, trader, is_buy, price_ticks, size_lots, flags, leg)`` or
        ``(EV_CANCEL, oid, reason, 0, 0, 0, 0, 0)``. Batching lets a bus adapter hand over everything
        it has queued with one call; :meth:`place` and :meth:`cancel` are batches of one.
        """
        out = self.out
        orders = self.orders
        pos = self.pos
        bids = self.bids
        asks = self.asks
        append = out.append
        for kind, oid, trader, is_buy, price, qty, flags, leg in events:
            if kind:  # cancel; ``trader`` carries the reason
                rec = orders.pop(oid, None)
                if rec is None:
                    append((EV_REJECTED, oid, R_UNKNOWN))
                    continue
                rem = rec[3]
                rec[3] = 0
                price = rec[2]
                if rec[4]:
                    keys, queues, totals = bids
                    k = -price
                else:
                    keys, queues, totals = asks
                    k = price
                tot = totals[k] - rem
                if tot:
                    totals[k] = tot
                else:
                    del totals[k]
                    del queues[k]
                    del keys[bisect_left(keys, k)]
                append((EV_CANCELLED, oid, rem, trader))
                append((EV_DEPTH, rec[4], price, tot))
                continue
            pos_key = trader * LEGS_PER_TRADER + leg
            if is_buy:
                okeys, oqueues, ototals = asks
                lim = price
            else:
                okeys, oqueues, ototals = bids
                lim = -price
            if flags:
                if flags & F_REDUCE_ONLY:
                    p = pos.get(pos_key, 0)
                    room = -p if is_buy else p
                    if room <= 0 or (room < qty and flags & F_FOK):
                        append((EV_REJECTED, oid, R_REDUCE_ONLY))
                        continue
                    if room < qty:
                        qty = room
                if flags & F_POST_ONLY:
                    if okeys and okeys[0] <= lim:
                        append((EV_REJECTED, oid, R_POST_ONLY))
                        continue
                elif flags & F_FOK and not self._fok_fillable(okeys, oqueues, lim, qty, trader, is_buy):
                    append((EV_REJECTED, oid, R_FOK))
                    continue
            append((EV_ACCEPTED, oid, qty))
            rem = qty
            if okeys and okeys[0] <= lim:
                maker_side_is_bid = not is_buy
                while rem and okeys:
                    k = okeys[0]
                    if k > lim:
                        break
                    px = k if is_buy else -k
                    q = oqueues[k]
                    tot = ototals[k]
                    while q:
                        m = q[0]
                        mrem = m[3]
                        if not mrem:
                            q.popleft()
                            continue
                        if m[1] == trader:
                            q.popleft()
                            m[3] = 0
                            tot -= mrem
                            del orders[m[0]]
                            append((EV_CANCELLED, m[0], mrem, R_SELF_TRADE))
                            continue
                        mkey = m[6]
                        if m[5]:
                            p = pos.get(mkey, 0)
                            room = p if is_buy else -p
                            if room < mrem:
                                if room <= 0:
                                    q.popleft()
                                    m[3] = 0
                                    tot -= mrem
                                    del orders[m[0]]
                                    append((EV_CANCELLED, m[0], mrem, R_RO_SHRUNK))
                                    continue
                                tot -= mrem - room
                                mrem = m[3] = room
                                append((EV_REDUCED, m[0], room, R_RO_SHRUNK))
                        f = mrem if mrem < rem else rem
                        rem -= f
                        mrem -= f
                        tot -= f
                        if is_buy:
                            pos[pos_key] = pos.get(pos_key, 0) + f
                            pos[mkey] = pos.get(mkey, 0) - f
                        else:
                            pos[pos_key] = pos.get(pos_key, 0) - f
                            pos[mkey] = pos.get(mkey, 0) + f
                        append((EV_FILL, m[0], oid, px, f, mrem, rem))
                        if mrem:
                            m[3] = mrem
                            break
                        q.popleft()
                        del orders[m[0]]
                        if not rem:
                            break
                    if tot:
                        ototals[k] = tot
                    else:
                        del oqueues[k]
                        del ototals[k]
                        del okeys[0]
                    append((EV_DEPTH, maker_side_is_bid, px, tot))
            if rem:
                if flags & (F_IOC | F_FOK):
                    append((EV_CANCELLED, oid, rem, R_IOC))
                    continue
                rec = [oid, trader, price, rem, is_buy, flags & F_REDUCE_ONLY, pos_key]
                orders[oid] = rec
                if is_buy:
                    keys, queues, totals = bids
                    k = -price
                else:
                    keys, queues, totals = asks
                    k = price
                t = totals.get(k)
                if t is None:
                    insort(keys, k)
                    queues[k] = deque((rec,))
                    totals[k] = rem
                    append((EV_DEPTH, is_buy, price, rem))
                else:
                    queues[k].append(rec)
                    t += rem
                    totals[k] = t
                    append((EV_DEPTH, is_buy, price, t))

    # ------------------------------------------------------------------ colder paths

    def _fok_fillable(self, keys: list[int], queues: dict, lim: int, qty: int, trader: int, is_buy: bool) -> bool:
        """Whether an incoming order could fill ``qty`` entirely, simulating STP and reduce-only clips."""
        pos = self.pos
        used: dict[int, int] = {}
        need = qty
        for k in keys:
            if k > lim:
                return False
            for m in queues[k]:
                mrem = m[3]
                if not mrem or m[1] == trader:
                    continue
                if m[5]:
                    mkey = m[6]
                    p = pos.get(mkey, 0)
                    room = (p if is_buy else -p) - used.get(mkey, 0)
                    if room <= 0:
                        continue
                    mrem = min(mrem, room)
                    used[mkey] = used.get(mkey, 0) + min(mrem, need)
                need -= mrem
                if need <= 0:
                    return True
        return False

    def cancel_all(self, trader: int) -> None:
        """Cancel every resting order of ``trader`` (oldest first). O(live orders): not for the hot path."""
        for oid in [oid for oid, rec in self.orders.items() if rec[1] == trader]:
            self.cancel(oid, R_CANCEL_ALL)

    def set_position(self, trader: int, leg: int, lots: int) -> None:
        """Tell the matcher a trader's signed position (lots) in one leg, e.g. loaded from chain."""
        self.pos[trader * LEGS_PER_TRADER + leg] = lots

    def position(self, trader: int, leg: int) -> int:
        """The signed position (lots) the matcher knows for ``trader``'s ``leg``."""
        return self.pos.get(trader * LEGS_PER_TRADER + leg, 0)

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels per side as ``(price_ticks, total_lots)``, best first: ``(bids, asks)``."""
        bkeys, _, btot = self.bids
        akeys, _, atot = self.asks
        return [(-k, btot[k]) for k in bkeys[:n]], [(k, atot[k]) for k in akeys[:n]]

    def levels(self) -> tuple[list, list]:
        """Full book in priority order: per side ``[(price, [(oid, remaining), ...]), ...]`` best first."""
        result = []
        for side, sign in ((self.bids, -1), (self.asks, 1)):
            keys, queues, _ = side
            result.append([(sign * k, [(m[0], m[3]) for m in queues[k] if m[3]]) for k in keys])
        return result[0], result[1]

    def live_orders(self) -> list[list]:
        """Live records in priority order (bids then asks): the book's complete state with :attr:`pos`."""
        recs = []
        for keys, queues, _ in (self.bids, self.asks):
            for k in keys:
                recs.extend(list(m) for m in queues[k] if m[3])
        return recs

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` if the internal structure is inconsistent (tests and benchmark)."""
        live = 0
        for sign, (keys, queues, totals) in ((-1, self.bids), (1, self.asks)):
            assert keys == sorted(keys) and len(set(keys)) == len(keys), "level keys not sorted/unique"
            assert set(keys) == set(queues) == set(totals), "level index mismatch"
            for k in keys:
                recs = [m for m in queues[k] if m[3]]
                assert totals[k] == sum(m[3] for m in recs) > 0, f"level {sign * k} total mismatch"
                for m in recs:
                    assert m[2] == sign * k and bool(m[4]) == (sign < 0), "record on the wrong level"
                    assert self.orders.get(m[0]) is m, "live record not indexed"
                live += len(recs)
        assert live == len(self.orders), "orders index has records not in the book"
        if self.bids[0] and self.asks[0]:
            assert -self.bids[0][0] < self.asks[0][0], "book is crossed"

    def export_state(self) -> dict[str, Any]:
        """JSON-safe state (live records in priority order, positions) for snapshots."""
        return {"orders": self.live_orders(), "pos": sorted([k, v] for k, v in self.pos.items() if v)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MarketBook:
        """Rebuild a book from :meth:`export_state`; time priority is the order of the records."""
        book = cls()
        for rec in state["orders"]:
            rec = [int(rec[0]), int(rec[1]), int(rec[2]), int(rec[3]), bool(rec[4]), int(rec[5]), int(rec[6])]
            keys, queues, totals = book.bids if rec[4] else book.asks
            k = -rec[2] if rec[4] else rec[2]
            if k not in totals:
                insort(keys, k)
                queues[k] = deque()
                totals[k] = 0
            queues[k].append(rec)
            totals[k] += rec[3]
            book.orders[rec[0]] = rec
        book.pos = {int(k): int(v) for k, v in state["pos"]}
        return book
