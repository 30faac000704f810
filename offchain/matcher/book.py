"""The hot path: one market's price-time priority order book on integer ticks and lots.

Everything here is plain ints, lists, dicts and tuples; no floats, no Decimal, no logging, no
Python-level call on the passive-add and cancel paths (only C methods of list and dict), and one
small tuple per output event. Positions are a dense list indexed by ``trader * 4 + leg`` (the
engine numbers traders 0, 1, 2, ...), not a dict: a list index costs a fraction of an int-keyed
dict lookup, and the match loop updates one maker position per fill. Signatures, units and the
order struct are handled by :mod:`offchain.matcher.engine` before an order reaches
:meth:`MarketBook.place`.

Layout. Each side is ``(keys, levels, index)``: ``keys`` is an ascending list of level keys with the
best level first, ``levels`` the level lists in the same order and ``index`` maps a level's price
(positive on both sides) to its level.
Asks use ``key = price``; bids use ``key = -price``, so both sides share one matching routine ("an
incoming order crosses a level when ``key <= limit_key``", and an order rests at ``key = -limit_key``).
A level is a list ``[total, cap, head, rec, rec, ...]``: the live size, the list length above which
a cancel compacts it, the index of its first unconsumed record, then order records in time order.
A level exists exactly while its total is positive.

Order records are lists ``[oid, trader, price, remaining, is_buy, reduce_only, pos_key, level]``
(``level`` is the record's own level list, so a cancel touches no index but ``orders``). A level
and its records reference each other while the level exists; a level that empties is cleared,
so the book leaves no cyclic garbage behind and a long-running matcher can run with the cyclic
GC disabled (the benchmark does; ``tests/matcher/test_book.py`` checks that nothing is left). A cancel
sets ``remaining`` to 0 and leaves the record in its level ("lazy deletion"); the match loop skips
dead records and advances ``head`` past what it consumed; the consumed prefix is deleted once it
is half the list (a slice deletion per sweep would memmove long levels every time). A cancel that
finds its level longer than ``cap`` compacts it (drops consumed and dead records) and sets
``cap = COMPACT_FACTOR * length + COMPACT_MIN``, so a level that never trades holds at most about
four times its peak live orders, and compaction costs amortised O(1) per added order (on the
1M-event benchmark flow it scans ~0.3 records per event). Freeing dead records is real work the
previous deque book never did for levels that do not trade (their cancelled records stayed forever).

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

from bisect import bisect_left
from collections.abc import Iterable
from operator import itemgetter
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
OID, TRADER, PRICE, REMAINING, IS_BUY, REDUCE_ONLY, POS_KEY, LEVEL = range(8)
RECORD_FIELDS = 7  # the fields a snapshot stores (``LEVEL`` is rebuilt)
# Level fields; order records start at ``LV_FIRST``; those before ``level[LV_HEAD]`` are consumed.
LV_TOTAL, LV_CAP, LV_HEAD, LV_FIRST = range(4)
COMPACT_FACTOR = 4  # a cancel compacts a level grown past this many times its length after the last compaction
COMPACT_MIN = 64  # plus this slack
_live = itemgetter(REMAINING)

LEGS_PER_TRADER = 4  # pos_key = trader * 4 + leg (legs 0..2)
MAX_TRADER = 2**24 - 1  # trader ids index a dense positions list: the engine assigns them 0, 1, 2, ...
F_NO_REST = F_IOC | F_FOK
# The hot loops write these values as literals (a literal is cheaper than a module global in CPython).
assert (EV_ACCEPTED, EV_FILL, EV_CANCELLED, EV_DEPTH, F_IOC, LEGS_PER_TRADER) == (0, 2, 3, 5, 4, 4)

Side = tuple[list[int], list[list], dict[int, list]]


def _new_side() -> Side:
    return ([], [], {})


class MarketBook:
    """One market's book. Callers read and clear :attr:`out` after each call (or batch of calls).

    :attr:`pos` is the positions list indexed by ``trader * LEGS_PER_TRADER + leg`` (grown on demand);
    read it through :meth:`position` / :meth:`positions`.
    """

    __slots__ = ("asks", "bids", "orders", "out", "pos")

    def __init__(self) -> None:
        self.bids: Side = _new_side()
        self.asks: Side = _new_side()
        self.orders: dict[int, list] = {}
        self.pos: list[int] = []
        self.out: list[tuple] = []

    # ------------------------------------------------------------------ hot path

    def place(self, oid: int, trader: int, is_buy: bool, price: int, qty: int, flags: int, leg: int) -> None:
        """Match an incoming order (ticks, lots) and rest any GTC remainder.

        ``oid`` must be new and increasing (arrival order; the engine assigns them); ``trader`` is a small
        int id (``0..MAX_TRADER``); ``leg`` 0..2.
        """
        if not 0 <= trader <= MAX_TRADER or not 0 <= leg < LEGS_PER_TRADER:
            raise ValueError(f"trader id {trader} / leg {leg} out of range")
        self.apply(((EV_PLACE, oid, trader, is_buy, price, qty, flags, leg),))

    def cancel(self, oid: int, reason: str = R_USER) -> None:
        """Cancel a resting order; an unknown or finished ``oid`` yields ``EV_REJECTED``."""
        self.apply(((EV_CANCEL, oid, reason, False, 0, 0, 0, 0),))

    def apply(self, events: Iterable[tuple]) -> None:
        """Process a batch of input tuples in order (callers guarantee the ranges :meth:`place` checks).

        ``(EV_PLACE, oid, trader, is_buy, price_ticks, size_lots, flags, leg)`` or
        ``(EV_CANCEL, oid, reason, 0, 0, 0, 0, 0)``. Batching lets a bus adapter hand over everything
        it has queued with one call; :meth:`place` and :meth:`cancel` are batches of one. Passive adds
        and cancels are handled inline; a crossing order calls :meth:`_take`, an order with
        reduce-only, post-only or FOK flags :meth:`_admit` first.
        """
        out = self.out
        orders = self.orders
        bkeys, blevels, bindex = self.bids
        akeys, alevels, aindex = self.asks
        take = self._take
        for kind, oid, trader, is_buy, price, qty, flags, leg in events:
            if kind:  # cancel; ``trader`` carries the reason
                try:
                    rec = orders.pop(oid)
                except KeyError:
                    out.append((EV_REJECTED, oid, R_UNKNOWN))
                    continue
                rem = rec[3]
                rec[3] = 0
                lvl = rec[7]
                tot = lvl[0] - rem
                out.append((3, oid, rem, trader))  # 3: EV_CANCELLED
                if tot:
                    lvl[0] = tot
                    if len(lvl) > lvl[1]:
                        lvl[3:] = filter(_live, lvl[lvl[2] :])
                        lvl[2] = 3
                        lvl[1] = len(lvl) * COMPACT_FACTOR + COMPACT_MIN
                    out.append((5, rec[4], rec[2], tot))  # 5: EV_DEPTH
                    continue
                price = rec[2]
                if rec[4]:
                    i = bisect_left(bkeys, -price)
                    del bkeys[i]
                    del blevels[i]
                    del bindex[price]
                else:
                    i = bisect_left(akeys, price)
                    del akeys[i]
                    del alevels[i]
                    del aindex[price]
                lvl.clear()  # its dead records point back at it: no cycle left for the GC
                out.append((EV_DEPTH, rec[4], price, 0))
                continue
            if flags and flags != 4:  # 4: F_IOC
                qty = self._admit(oid, trader, is_buy, price, qty, flags, leg)
                if not qty:
                    continue
            out.append((0, oid, qty))  # 0: EV_ACCEPTED
            if is_buy:
                if akeys and akeys[0] <= price:
                    qty = take(oid, trader, True, price, qty, leg)  # now the remainder
                    if not qty:
                        continue
            elif bkeys and bkeys[0] <= -price:
                qty = take(oid, trader, False, -price, qty, leg)
                if not qty:
                    continue
            if flags:
                if flags & F_NO_REST:
                    out.append((EV_CANCELLED, oid, qty, R_IOC))
                    continue
                flags &= F_REDUCE_ONLY  # what a resting record keeps of its flags
            if is_buy:
                lvl = bindex.get(price)
                if lvl is None:
                    i = bisect_left(bkeys, -price)
                    bkeys.insert(i, -price)
                    lvl = [0, COMPACT_MIN + 3, 3]
                    blevels.insert(i, lvl)
                    bindex[price] = lvl
            else:
                lvl = aindex.get(price)
                if lvl is None:
                    i = bisect_left(akeys, price)
                    akeys.insert(i, price)
                    lvl = [0, COMPACT_MIN + 3, 3]
                    alevels.insert(i, lvl)
                    aindex[price] = lvl
            rec = [oid, trader, price, qty, is_buy, flags, trader * 4 + leg, lvl]  # 4: LEGS_PER_TRADER
            orders[oid] = rec
            lvl.append(rec)
            tot = lvl[0] + qty
            lvl[0] = tot
            out.append((5, is_buy, price, tot))  # 5: EV_DEPTH

    def _take(self, oid: int, trader: int, is_buy: bool, lim: int, qty: int, leg: int) -> int:
        """Match an accepted order against the opposite side up to limit key ``lim``; returns the remainder."""
        out = self.out
        orders = self.orders
        pos = self.pos
        okeys, olevels, oindex = self.asks if is_buy else self.bids
        maker_side_is_bid = not is_buy
        rem = qty
        while True:
            k = okeys[0]
            px = k if is_buy else -k
            lvl = olevels[0]
            tot = lvl[0]
            i = lvl[2]
            while True:
                m = lvl[i]
                mrem = m[3]
                if not mrem:  # cancelled earlier (lazy deletion)
                    i += 1
                    continue
                if m[1] == trader:
                    i += 1
                    m[3] = 0
                    del orders[m[0]]
                    out.append((EV_CANCELLED, m[0], mrem, R_SELF_TRADE))
                    tot -= mrem
                    if tot:
                        continue
                    break
                if m[5]:
                    mkey = m[6]
                    p = pos[mkey] if mkey < len(pos) else 0
                    room = p if is_buy else -p
                    if room < mrem:
                        if room <= 0:
                            i += 1
                            m[3] = 0
                            del orders[m[0]]
                            out.append((EV_CANCELLED, m[0], mrem, R_RO_SHRUNK))
                            tot -= mrem
                            if tot:
                                continue
                            break
                        tot -= mrem - room
                        mrem = m[3] = room
                        out.append((EV_REDUCED, m[0], room, R_RO_SHRUNK))
                if mrem > rem:  # the maker stays, partially filled; the taker is done
                    mrem -= rem
                    m[3] = mrem
                    tot -= rem
                    try:
                        if is_buy:
                            pos[m[6]] -= rem
                        else:
                            pos[m[6]] += rem
                    except IndexError:  # the maker's first trade: grow the positions list
                        self._add_position(m[6], -rem if is_buy else rem)
                    out.append((2, m[0], oid, px, rem, mrem, 0))  # 2: EV_FILL
                    rem = 0
                    break
                rem -= mrem  # the maker is filled entirely
                tot -= mrem
                del orders[m[0]]
                i += 1
                try:
                    if is_buy:
                        pos[m[6]] -= mrem
                    else:
                        pos[m[6]] += mrem
                except IndexError:
                    self._add_position(m[6], -mrem if is_buy else mrem)
                out.append((2, m[0], oid, px, mrem, 0, rem))  # 2: EV_FILL
                if not rem or not tot:
                    break
            if tot:  # then rem == 0: the taker is done and this level stays
                lvl[0] = tot
                if i > 64 and i + i > len(lvl):  # trim the consumed prefix once it is half the list
                    del lvl[3:i]
                    i = 3
                lvl[2] = i
                out.append((5, maker_side_is_bid, px, tot))  # 5: EV_DEPTH
                break
            del okeys[0]
            del olevels[0]
            del oindex[px]
            lvl.clear()  # consumed and dead records point back at it: no cycle left for the GC
            out.append((5, maker_side_is_bid, px, 0))  # 5: EV_DEPTH
            if not rem or not okeys or okeys[0] > lim:
                break
        if rem != qty:  # the taker's position, once per order (no maker of the same trader can fill: STP)
            key = trader * 4 + leg  # 4: LEGS_PER_TRADER
            try:
                if is_buy:
                    pos[key] += qty - rem
                else:
                    pos[key] -= qty - rem
            except IndexError:
                self._add_position(key, qty - rem if is_buy else rem - qty)
        return rem

    def _admit(self, oid: int, trader: int, is_buy: bool, price: int, qty: int, flags: int, leg: int) -> int:
        """Entry rules of reduce-only, post-only and FOK orders: the size to match, or 0 when rejected."""
        lim = price if is_buy else -price
        if flags & F_REDUCE_ONLY:
            p = self.position(trader, leg)
            room = -p if is_buy else p
            if room <= 0 or (room < qty and flags & F_FOK):
                self.out.append((EV_REJECTED, oid, R_REDUCE_ONLY))
                return 0
            qty = min(qty, room)
        okeys, olevels, _ = self.asks if is_buy else self.bids
        if flags & F_POST_ONLY:
            if okeys and okeys[0] <= lim:
                self.out.append((EV_REJECTED, oid, R_POST_ONLY))
                return 0
        elif flags & F_FOK and not self._fok_fillable(olevels, okeys, lim, qty, trader, is_buy):
            self.out.append((EV_REJECTED, oid, R_FOK))
            return 0
        return qty

    # ------------------------------------------------------------------ colder paths

    def _add_position(self, key: int, delta: int) -> None:
        pos = self.pos
        if key >= len(pos):
            pos.extend([0] * (key + 1 - len(pos)))
        pos[key] += delta

    def _fok_fillable(self, levels: list, keys: list[int], lim: int, qty: int, trader: int, is_buy: bool) -> bool:
        """Whether an incoming order could fill ``qty`` entirely, simulating STP and reduce-only clips."""
        pos = self.pos
        used: dict[int, int] = {}
        need = qty
        for k, lvl in zip(keys, levels, strict=True):
            if k > lim:
                return False
            for m in lvl[lvl[2] :]:
                mrem = m[3]
                if not mrem or m[1] == trader:
                    continue
                if m[5]:
                    mkey = m[6]
                    p = pos[mkey] if mkey < len(pos) else 0
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
        """Cancel every resting order of ``trader``, oldest (lowest oid) first. O(live orders): not a hot path."""
        for oid in sorted(oid for oid, rec in self.orders.items() if rec[1] == trader):
            self.cancel(oid, R_CANCEL_ALL)

    def set_position(self, trader: int, leg: int, lots: int) -> None:
        """Tell the matcher a trader's signed position (lots) in one leg, e.g. loaded from chain."""
        if not 0 <= trader <= MAX_TRADER or not 0 <= leg < LEGS_PER_TRADER:
            raise ValueError(f"trader id {trader} / leg {leg} out of range")
        key = trader * LEGS_PER_TRADER + leg
        self._add_position(key, 0)
        self.pos[key] = lots

    def position(self, trader: int, leg: int) -> int:
        """The signed position (lots) the matcher knows for ``trader``'s ``leg``."""
        key = trader * LEGS_PER_TRADER + leg
        return self.pos[key] if key < len(self.pos) else 0

    def positions(self) -> dict[int, int]:
        """Non-zero positions keyed by ``trader * LEGS_PER_TRADER + leg``."""
        return {key: lots for key, lots in enumerate(self.pos) if lots}

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels per side as ``(price_ticks, total_lots)``, best first: ``(bids, asks)``."""
        bkeys, blevels, _ = self.bids
        akeys, alevels, _ = self.asks
        return (
            [(-k, lvl[0]) for k, lvl in zip(bkeys[:n], blevels[:n], strict=True)],
            [(k, lvl[0]) for k, lvl in zip(akeys[:n], alevels[:n], strict=True)],
        )

    def levels(self) -> tuple[list, list]:
        """Full book in priority order: per side ``[(price, [(oid, remaining), ...]), ...]`` best first."""
        result = []
        for (keys, levels, _), sign in ((self.bids, -1), (self.asks, 1)):
            result.append(
                [(sign * k, [(m[0], m[3]) for m in lvl[lvl[2] :] if m[3]]) for k, lvl in zip(keys, levels, strict=True)]
            )
        return result[0], result[1]

    def live_orders(self) -> list[list]:
        """Live records (without their level) in priority order, bids then asks: with :attr:`pos`, the whole state."""
        recs = []
        for _, levels, _ in (self.bids, self.asks):
            for lvl in levels:
                recs.extend(m[:RECORD_FIELDS] for m in lvl[lvl[2] :] if m[3])
        return recs

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` if the internal structure is inconsistent (tests and benchmark)."""
        live = 0
        for sign, (keys, levels, index) in ((-1, self.bids), (1, self.asks)):
            assert keys == sorted(keys) and len(set(keys)) == len(keys), "level keys not sorted/unique"
            assert len(keys) == len(levels) == len(index), "level index mismatch"
            for k, lvl in zip(keys, levels, strict=True):
                assert index.get(sign * k) is lvl, "level index mismatch"
                assert 3 <= lvl[2] <= len(lvl), f"level {sign * k} head out of range"
                assert not any(self.orders.get(m[0]) is m for m in lvl[3 : lvl[2]]), "live record before the head"
                recs = [m for m in lvl[lvl[2] :] if m[3]]
                assert lvl[0] == sum(m[3] for m in recs) > 0, f"level {sign * k} total mismatch"
                assert lvl[1] >= COMPACT_MIN + 3, f"level {sign * k} compaction cap below the minimum"
                for m in recs:
                    assert m[2] == sign * k and bool(m[4]) == (sign < 0), "record on the wrong level"
                    assert m[7] is lvl, "record points at another level"
                    assert self.orders.get(m[0]) is m, "live record not indexed"
                live += len(recs)
        assert live == len(self.orders), "orders index has records not in the book"
        if self.bids[0] and self.asks[0]:
            assert -self.bids[0][0] < self.asks[0][0], "book is crossed"

    def export_state(self) -> dict[str, Any]:
        """JSON-safe state (live records in priority order, positions) for snapshots."""
        return {"orders": self.live_orders(), "pos": sorted([k, v] for k, v in self.positions().items())}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MarketBook:
        """Rebuild a book from :meth:`export_state`; time priority is the order of the records."""
        book = cls()
        for raw in state["orders"]:
            oid, trader, price, rem, is_buy, reduce_only, pos_key = (int(x) for x in raw[:RECORD_FIELDS])
            keys, levels, index = book.bids if is_buy else book.asks
            k = -price if is_buy else price
            lvl = index.get(price)
            if lvl is None:
                i = bisect_left(keys, k)
                keys.insert(i, k)
                lvl = [0, COMPACT_MIN + 3, 3]
                levels.insert(i, lvl)
                index[price] = lvl
            rec = [oid, trader, price, rem, bool(is_buy), reduce_only, pos_key, lvl]
            lvl.append(rec)
            lvl[0] += rem
            book.orders[oid] = rec
        book.orders = dict(sorted(book.orders.items()))  # arrival (oid) order, as in the original book
        for key, lots in state["pos"]:
            book._add_position(int(key), int(lots))
        return book
