"""The hot path: one market's price-time priority order book on integer ticks and lots.

Everything here is plain ints, lists, dicts and tuples; no floats, no Decimal, no logging, no
Python-level call on the passive-add and cancel paths (only C methods of list and dict). A passive
add allocates two small tuples (its record and its output), a cancel one (its output), plus an int
for a level total above 256. Positions
are a dense list indexed by ``trader * 4 + leg`` (the engine numbers traders 0, 1, 2, ...), not a
dict: a list index costs a fraction of an int-keyed dict lookup. Signatures, units and the order
struct are handled by :mod:`offchain.matcher.engine` before an order reaches :meth:`MarketBook.place`.

Layout. Each side is ``(keys, levels, index)``: ``keys`` is an ascending list of level keys with the
best level first and the sentinel :data:`EMPTY` last, ``levels`` the level lists in the same order
(no sentinel) and ``index`` maps a level's price (positive on both sides) to its level. Asks use
``key = price``; bids use ``key = -price``, so both sides share one matching routine ("an incoming
order crosses a level when ``key <= limit_key``"). The sentinel lets the best key be read without
an emptiness test: no order price reaches it (limit prices are uint128).

A level is a list ``[total, cap, head, price, is_bid, entry, entry, ...]``: the live size, the list
length above which a cancel compacts it, the index of its first unconsumed entry, its price and
side, then the entries in time order. An *entry* is the order's own input tuple ``(EV_PLACE, oid,
trader, is_buy, price, size, flags, leg)`` (for a passive add without flags, the very tuple handed
to :meth:`MarketBook.apply`, so resting allocates nothing; orders that rest after matching or
admission get a fresh tuple with ``flags`` reduced to ``F_REDUCE_ONLY``). Entries are immutable:
the mutable state of a live order is its *record* ``orders[oid] = (remaining, level)``, a 2-tuple
replaced (not mutated) when a partial fill or a reduce-only clip changes ``remaining``. A level
exists exactly while its total is positive.

A cancel pops the record (the level gives the price and side: no index lookup) and leaves the
entry in its level ("lazy deletion"): an entry is live while its oid is in ``orders``. The match
loop pops each maker's record as it reaches it, skips entries whose oid is gone, and advances
``head`` past what it consumed; the consumed prefix is deleted once it
is half the list (a slice deletion per sweep would memmove long levels every time). A cancel that
finds its level longer than ``cap`` compacts it (keeps the live entries, C-level ``compress``) and
sets ``cap = COMPACT_FACTOR * length + COMPACT_MIN``, so a level that never trades holds at most
about four times its peak live orders, and compaction costs amortised O(1) per added order.

Records reference levels, levels reference entries (tuples of ints, bools and strings) and nothing
references a record but ``orders``: the book holds no reference cycle at all, so a long-running
matcher can run with the cyclic GC disabled (the benchmark does; ``tests/matcher/test_book.py``
checks that nothing is left for the collector).

Output. :attr:`MarketBook.out` receives compact tuples (``EV_*`` below). The two most frequent
pairs are merged into one tuple each: an order that rests without trading yields ``EV_RESTED``
(= ``EV_ACCEPTED`` + ``EV_DEPTH``; it carries the order's input tuple, which holds the oid, size,
side and price, and the level's new total) and a cancel yields ``EV_CANCELLED_DEPTH``
(= ``EV_CANCELLED`` + ``EV_DEPTH``). :func:`expand` turns a batch into the canonical
one-event-per-tuple stream.

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
from collections.abc import Iterable, Iterator
from itertools import compress
from operator import itemgetter
from typing import Any

# Output events, appended to ``MarketBook.out`` as tuples.
EV_ACCEPTED = 0  # (EV_ACCEPTED, oid, size_lots)
EV_REJECTED = 1  # (EV_REJECTED, oid, reason)
EV_FILL = 2  # (EV_FILL, maker_oid, taker_oid, price_ticks, size_lots, maker_remaining, taker_remaining)
EV_CANCELLED = 3  # (EV_CANCELLED, oid, remaining_lots, reason)
EV_REDUCED = 4  # (EV_REDUCED, oid, new_remaining_lots, reason)
EV_DEPTH = 5  # (EV_DEPTH, is_bid, price_ticks, level_total_lots)
# Merged pairs (one tuple, two events; :func:`expand` splits them):
EV_RESTED = 6  # (EV_RESTED, order, level_total_lots): accepted, then depth; ``order`` is the input tuple
EV_CANCELLED_DEPTH = 7  # (EV_CANCELLED_DEPTH, oid, remaining_lots, reason, is_bid, price_ticks, level_total_lots)

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
    EV_RESTED: "accepted+depth",
    EV_CANCELLED_DEPTH: "cancelled+depth",
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

# Entry fields (the order's input tuple, kept in its level).
E_OID, E_TRADER, E_IS_BUY, E_PRICE, E_FLAGS, E_LEG = 1, 2, 3, 4, 6, 7
RECORD_FIELDS = 7  # a snapshot row: oid, trader, price, remaining, is_buy, reduce_only, pos_key
# Level fields; entries start at ``LV_FIRST``; those before ``level[LV_HEAD]`` are consumed.
LV_TOTAL, LV_CAP, LV_HEAD, LV_PRICE, LV_IS_BID, LV_FIRST = range(6)
COMPACT_FACTOR = 4  # a cancel compacts a level grown past this many times its length after the last compaction
COMPACT_MIN = 64  # plus this slack
EMPTY = 1 << 256  # sentinel key closing each side's key list: beyond any order price (uint128)
_oid = itemgetter(E_OID)

LEGS_PER_TRADER = 4  # pos_key = trader * 4 + leg (legs 0..2)
MAX_TRADER = 2**24 - 1  # trader ids index a dense positions list: the engine assigns them 0, 1, 2, ...
F_NO_REST = F_IOC | F_FOK
# The hot loops write these values as literals (a literal is cheaper than a module global in CPython).
assert (EV_ACCEPTED, EV_FILL, EV_CANCELLED, EV_REDUCED, EV_DEPTH) == (0, 2, 3, 4, 5)
assert (EV_RESTED, EV_CANCELLED_DEPTH, F_IOC, LEGS_PER_TRADER, LV_PRICE, LV_IS_BID, LV_FIRST) == (6, 7, 4, 4, 3, 4, 5)

Side = tuple[list[int], list[list], dict[int, list]]


def _new_side() -> Side:
    return ([EMPTY], [], {})


def expand(events: Iterable[tuple]) -> Iterator[tuple]:
    """The canonical event stream of an output batch: merged tuples split into their two events, in order."""
    for ev in events:
        kind = ev[0]
        if kind == EV_RESTED:
            order = ev[1]
            yield (EV_ACCEPTED, order[1], order[5])
            yield (EV_DEPTH, order[3], order[4], ev[2])
        elif kind == EV_CANCELLED_DEPTH:
            yield (EV_CANCELLED, ev[1], ev[2], ev[3])
            yield (EV_DEPTH, ev[4], ev[5], ev[6])
        else:
            yield ev


class MarketBook:
    """One market's book. Callers read and clear :attr:`out` after each call (or batch of calls).

    :attr:`orders` maps each live order's oid to its record ``(remaining_lots, level)``;
    :attr:`pos` is the positions list indexed by ``trader * LEGS_PER_TRADER + leg`` (grown on demand);
    read it through :meth:`position` / :meth:`positions`.
    """

    __slots__ = ("asks", "bids", "orders", "out", "pos")

    def __init__(self) -> None:
        self.bids: Side = _new_side()
        self.asks: Side = _new_side()
        self.orders: dict[int, tuple[int, list]] = {}
        self.pos: list[int] = []
        self.out: list[tuple] = []

    # ------------------------------------------------------------------ hot path

    def place(self, oid: int, trader: int, is_buy: bool, price: int, qty: int, flags: int, leg: int) -> None:
        """Match an incoming order (ticks, lots) and rest any GTC remainder.

        ``oid`` must be new and increasing (arrival order; the engine assigns them); ``trader`` is a small
        int id (``0..MAX_TRADER``); ``leg`` 0..2; ``0 <= price < EMPTY``.
        """
        if not 0 <= trader <= MAX_TRADER or not 0 <= leg < LEGS_PER_TRADER:
            raise ValueError(f"trader id {trader} / leg {leg} out of range")
        if not 0 <= price < EMPTY:
            raise ValueError(f"price {price} out of range")
        self.apply(((EV_PLACE, oid, trader, bool(is_buy), price, qty, flags, leg),))

    def cancel(self, oid: int, reason: str = R_USER) -> None:
        """Cancel a resting order; an unknown or finished ``oid`` yields ``EV_REJECTED``."""
        self.apply(((EV_CANCEL, oid, reason, False, 0, 0, 0, 0),))

    def apply(self, events: Iterable[tuple]) -> None:
        """Process a batch of input tuples in order (callers guarantee the ranges :meth:`place` checks).

        ``(EV_PLACE, oid, trader, is_buy, price_ticks, size_lots, flags, leg)`` with a bool ``is_buy``,
        or ``(EV_CANCEL, oid, reason, 0, 0, 0, 0, 0)``. Inputs must be tuples: the tuple of an order
        that rests is kept as its entry. Batching lets a bus adapter hand over everything it has
        queued with one call; :meth:`place` and :meth:`cancel` are batches of one.

        One loop, no Python-level call except on rare paths (flag admission, a new level, a resting
        remainder, compaction): the best bid and ask prices are locals refreshed when a level appears
        or disappears. CPython 3.11 specialises a ``compare`` + ``jump`` pair only when the jump needs
        no ``EXTENDED_ARG`` (at most 255 code units), so every price or size comparison here jumps
        over a short block; the crossing tests land on ``lim = ...`` (not on a jump, which the compiler
        would thread to the far end of the add blocks).
        """
        out = self.out
        orders = self.orders
        pop = orders.pop
        pos = self.pos
        bkeys, blevels, bindex = self.bids
        akeys, alevels, aindex = self.asks
        ask = akeys[0]
        bid = -bkeys[0]
        for ev in events:
            kind, oid, trader, is_buy, price, qty, flags, leg = ev
            if kind:  # cancel; ``trader`` carries the reason
                try:
                    rem, lvl = pop(oid)
                except KeyError:
                    out.append((EV_REJECTED, oid, R_UNKNOWN))
                    continue
                tot = lvl[0] - rem
                if tot:
                    lvl[0] = tot
                    if len(lvl) > lvl[1]:
                        lvl[5:] = compress(lvl[lvl[2] :], map(orders.__contains__, map(_oid, lvl[lvl[2] :])))
                        lvl[2] = 5
                        lvl[1] = len(lvl) * COMPACT_FACTOR + COMPACT_MIN
                    out.append((7, oid, rem, trader, lvl[4], lvl[3], tot))  # 7: EV_CANCELLED_DEPTH
                    continue
                price = lvl[3]
                if lvl[4]:
                    i = bisect_left(bkeys, -price)
                    del bkeys[i]
                    del blevels[i]
                    del bindex[price]
                    bid = -bkeys[0]
                    out.append((7, oid, rem, trader, True, price, 0))
                else:
                    i = bisect_left(akeys, price)
                    del akeys[i]
                    del alevels[i]
                    del aindex[price]
                    ask = akeys[0]
                    out.append((7, oid, rem, trader, False, price, 0))
                continue
            if not flags:
                if is_buy:
                    if price < ask:  # passive bid
                        lvl = bindex.get(price)
                        if lvl is None:
                            lvl = self._new_level(bkeys, blevels, bindex, -price, price, True)
                            bid = -bkeys[0]
                        orders[oid] = (qty, lvl)
                        lvl.append(ev)
                        tot = lvl[0] + qty
                        lvl[0] = tot
                        out.append((6, ev, tot))  # 6: EV_RESTED
                        continue
                    lim = price
                else:
                    if price > bid:  # passive ask
                        lvl = aindex.get(price)
                        if lvl is None:
                            lvl = self._new_level(akeys, alevels, aindex, price, price, False)
                            ask = akeys[0]
                        orders[oid] = (qty, lvl)
                        lvl.append(ev)
                        tot = lvl[0] + qty
                        lvl[0] = tot
                        out.append((6, ev, tot))  # 6: EV_RESTED
                        continue
                    lim = -price
            else:
                if flags != 4:  # 4: F_IOC alone needs no admission
                    qty = self._admit(oid, trader, is_buy, price, qty, flags, leg)
                    if not qty:
                        continue
                lim = price if is_buy else -price
            # An order that crosses or has flags: match against the opposite side up to ``lim``
            # (a key: price for a buy, -price for a sell), then cancel or rest the remainder.
            out.append((0, oid, qty))  # 0: EV_ACCEPTED
            if is_buy:
                okeys, olevels, oindex = akeys, alevels, aindex
            else:
                okeys, olevels, oindex = bkeys, blevels, bindex
            if okeys[0] > lim:
                rem = qty
            else:
                mside = not is_buy
                rem = qty
                while True:
                    lvl = olevels[0]
                    px = lvl[3]
                    tot = lvl[0]
                    i = lvl[2]
                    while True:
                        e = lvl[i]
                        moid = e[1]
                        r = pop(moid, None)
                        if r is None:  # cancelled earlier (lazy deletion)
                            i += 1
                            continue
                        mrem = r[0]
                        if e[2] == trader:  # self-trade prevention: the resting order goes
                            i += 1
                            out.append((3, moid, mrem, R_SELF_TRADE))
                            tot -= mrem
                            if tot:
                                continue
                            break
                        if e[6]:  # a resting reduce-only order: clip it to the position it can still reduce
                            mkey = e[2] * 4 + e[7]
                            p = pos[mkey] if mkey < len(pos) else 0
                            room = p if is_buy else -p
                            if room < mrem:
                                if room <= 0:
                                    i += 1
                                    out.append((3, moid, mrem, R_RO_SHRUNK))
                                    tot -= mrem
                                    if tot:
                                        continue
                                    break
                                tot -= mrem - room
                                mrem = room
                                out.append((4, moid, room, R_RO_SHRUNK))
                        if mrem > rem:  # the maker stays, partially filled; the taker is done
                            mrem -= rem
                            orders[moid] = (mrem, lvl)
                            tot -= rem
                            mkey = e[2] * 4 + e[7]
                            try:
                                if is_buy:
                                    pos[mkey] -= rem
                                else:
                                    pos[mkey] += rem
                            except IndexError:
                                self._add_position(mkey, -rem if is_buy else rem)
                            out.append((2, moid, oid, px, rem, mrem, 0))
                            rem = 0
                            break
                        rem -= mrem  # the maker is filled entirely
                        tot -= mrem
                        i += 1
                        mkey = e[2] * 4 + e[7]
                        try:
                            if is_buy:
                                pos[mkey] -= mrem
                            else:
                                pos[mkey] += mrem
                        except IndexError:
                            self._add_position(mkey, -mrem if is_buy else mrem)
                        out.append((2, moid, oid, px, mrem, 0, rem))
                        if not rem or not tot:
                            break
                    if tot:  # then rem == 0: the taker is done and this level stays
                        lvl[0] = tot
                        if i > 64 and i + i > len(lvl):  # trim the consumed prefix once it is half the list
                            del lvl[5:i]
                            i = 5
                        lvl[2] = i
                        out.append((5, mside, px, tot))  # 5: EV_DEPTH
                        break
                    del okeys[0]
                    del olevels[0]
                    del oindex[px]
                    out.append((5, mside, px, 0))
                    if not rem or okeys[0] > lim:
                        break
                key = trader * 4 + leg  # the taker's position, once per order (STP: no maker of the same trader)
                try:
                    if is_buy:
                        pos[key] += qty - rem
                    else:
                        pos[key] -= qty - rem
                except IndexError:
                    self._add_position(key, qty - rem if is_buy else rem - qty)
            if rem:
                if flags & 12:  # 12: F_IOC | F_FOK never rest
                    out.append((3, oid, rem, R_IOC))
                else:
                    self._rest(oid, trader, is_buy, price, rem, flags, leg)
            ask = akeys[0]
            bid = -bkeys[0]

    def _rest(self, oid: int, trader: int, is_buy: bool, price: int, qty: int, flags: int, leg: int) -> None:
        """Rest an accepted remainder (after matching, or a flagged order that did not cross)."""
        keys, levels, index = self.bids if is_buy else self.asks
        lvl = index.get(price)
        if lvl is None:
            lvl = self._new_level(keys, levels, index, -price if is_buy else price, price, is_buy)
        self.orders[oid] = (qty, lvl)
        lvl.append((EV_PLACE, oid, trader, is_buy, price, qty, flags & F_REDUCE_ONLY, leg))
        lvl[0] += qty
        self.out.append((EV_DEPTH, is_buy, price, lvl[0]))

    @staticmethod
    def _new_level(
        keys: list[int], levels: list[list], index: dict[int, list], key: int, price: int, is_bid: bool
    ) -> list:
        """Insert an empty level (key ``key``, price ``price``) into a side and return it."""
        i = bisect_left(keys, key)
        keys.insert(i, key)
        lvl = [0, COMPACT_MIN + 5, 5, price, is_bid]
        levels.insert(i, lvl)
        index[price] = lvl
        return lvl

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
            if okeys[0] <= lim:
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
        orders = self.orders
        used: dict[int, int] = {}
        need = qty
        for k, lvl in zip(keys, levels, strict=False):  # keys has the sentinel beyond the last level
            if k > lim:
                return False
            for e in lvl[lvl[2] :]:
                r = orders.get(e[1])
                if r is None or e[2] == trader:
                    continue
                mrem = r[0]
                if e[6]:
                    mkey = e[2] * LEGS_PER_TRADER + e[7]
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
        """Cancel every resting order of ``trader``, oldest (lowest oid) first. O(book entries): not a hot path."""
        mine = [e[1] for _, levels, _ in (self.bids, self.asks) for lvl in levels for e in self._live(lvl)
                if e[2] == trader]  # fmt: skip
        for oid in sorted(mine):
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

    def _live(self, lvl: list) -> list[tuple]:
        """A level's live entries in priority order."""
        orders = self.orders
        return [e for e in lvl[lvl[2] :] if e[1] in orders]

    def _sides(self) -> tuple[tuple[int, list[int], list[list]], ...]:
        """``(sign, keys without the sentinel, levels)`` for bids then asks; ``price = sign * key``."""
        return ((-1, self.bids[0][:-1], self.bids[1]), (1, self.asks[0][:-1], self.asks[1]))

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels per side as ``(price_ticks, total_lots)``, best first: ``(bids, asks)``."""
        bids, asks = (
            [(sign * k, lvl[0]) for k, lvl in zip(keys[:n], levels[:n], strict=True)]
            for sign, keys, levels in self._sides()
        )
        return bids, asks

    def levels(self) -> tuple[list, list]:
        """Full book in priority order: per side ``[(price, [(oid, remaining), ...]), ...]`` best first."""
        orders = self.orders
        bids, asks = (
            [
                (sign * k, [(e[1], orders[e[1]][0]) for e in self._live(lvl)])
                for k, lvl in zip(keys, levels, strict=True)
            ]
            for sign, keys, levels in self._sides()
        )
        return bids, asks

    def live_orders(self) -> list[list]:
        """Live orders as snapshot rows ``[oid, trader, price, remaining, is_buy, reduce_only, pos_key]``,
        in priority order, bids then asks: with :attr:`pos`, the whole state."""
        orders = self.orders
        rows = []
        for _, _, levels in self._sides():
            for lvl in levels:
                for e in self._live(lvl):
                    rem, price, is_buy = orders[e[1]][0], lvl[3], lvl[4]
                    rows.append([e[1], e[2], price, rem, is_buy, e[6] & F_REDUCE_ONLY, e[2] * LEGS_PER_TRADER + e[7]])
        return rows

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` if the internal structure is inconsistent (tests and benchmark)."""
        live = 0
        orders = self.orders
        for (sign, keys, levels), (all_keys, _, index) in zip(self._sides(), (self.bids, self.asks), strict=True):
            assert all_keys[-1] == EMPTY, "side sentinel missing"
            assert keys == sorted(keys) and len(set(keys)) == len(keys) and (not keys or keys[-1] < EMPTY), (
                "level keys not sorted/unique"
            )
            assert len(keys) == len(levels) == len(index), "level index mismatch"
            for k, lvl in zip(keys, levels, strict=True):
                assert index.get(sign * k) is lvl, "level index mismatch"
                assert lvl[3] == sign * k and lvl[4] is (sign < 0), f"level {sign * k}: wrong price or side"
                assert 5 <= lvl[2] <= len(lvl), f"level {sign * k} head out of range"
                assert not any(e[1] in orders for e in lvl[5 : lvl[2]]), "live entry before the head"
                entries = self._live(lvl)
                assert len({e[1] for e in entries}) == len(entries), f"level {sign * k}: an order twice"
                assert lvl[0] == sum(orders[e[1]][0] for e in entries) > 0, f"level {sign * k} total mismatch"
                assert lvl[1] >= COMPACT_MIN + 5, f"level {sign * k} compaction cap below the minimum"
                for e in entries:
                    assert orders[e[1]][1] is lvl, "record points at another level"
                    assert e[4] == sign * k and bool(e[3]) is (sign < 0), "entry on the wrong level"
                    assert orders[e[1]][0] > 0, "live order with nothing remaining"
                live += len(entries)
        assert live == len(orders), "orders index has records not in the book"
        assert -self.bids[0][0] < self.asks[0][0], "book is crossed"

    def export_state(self) -> dict[str, Any]:
        """JSON-safe state (live orders in priority order, positions) for snapshots."""
        return {"orders": self.live_orders(), "pos": sorted([k, v] for k, v in self.positions().items())}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MarketBook:
        """Rebuild a book from :meth:`export_state`; time priority is the order of the rows."""
        book = cls()
        for raw in state["orders"]:
            oid, trader, price, rem, is_buy, reduce_only, pos_key = (int(x) for x in raw[:RECORD_FIELDS])
            side = bool(is_buy)
            keys, levels, index = book.bids if side else book.asks
            lvl = index.get(price)
            if lvl is None:
                lvl = cls._new_level(keys, levels, index, -price if side else price, price, side)
            leg = pos_key - trader * LEGS_PER_TRADER
            lvl.append((EV_PLACE, oid, trader, side, price, rem, reduce_only & F_REDUCE_ONLY, leg))
            lvl[0] += rem
            book.orders[oid] = (rem, lvl)
        book.orders = dict(sorted(book.orders.items()))  # arrival (oid) order, as in the original book
        for key, lots in state["pos"]:
            book._add_position(int(key), int(lots))
        return book
