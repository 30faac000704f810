"""A deliberately simple reference book: one list of resting orders, re-sorted on every match.

Same interface and the same documented policies as :class:`offchain.matcher.book.MarketBook`
(price-time priority, maker price, STP cancels the resting order, post-only reject, FOK all or
nothing, reduce-only clipping), written for obviousness rather than speed. Tests and the benchmark
compare the fast book against it. It produces the same non-depth events; depth is compared through
:meth:`ReferenceBook.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.matcher import book as b


@dataclass
class _Resting:
    seq: int
    oid: int
    trader: int
    is_buy: bool
    price: int
    remaining: int
    reduce_only: bool
    leg: int


class ReferenceBook:
    """Naive price-time priority book (ticks and lots)."""

    def __init__(self) -> None:
        self.resting: list[_Resting] = []
        self.positions: dict[tuple[int, int], int] = {}
        self.out: list[tuple] = []
        self._seq = 0

    def _room(self, trader: int, leg: int, is_buy: bool) -> int:
        """How much an order on this side can reduce the trader's position in ``leg``."""
        p = self.positions.get((trader, leg), 0)
        return max(0, -p if is_buy else p)

    def _queue(self, is_buy: bool, price: int) -> list[_Resting]:
        """Resting orders an incoming order could trade with, best first, then oldest first."""
        if is_buy:
            cands = [o for o in self.resting if not o.is_buy and o.price <= price]
            return sorted(cands, key=lambda o: (o.price, o.seq))
        cands = [o for o in self.resting if o.is_buy and o.price >= price]
        return sorted(cands, key=lambda o: (-o.price, o.seq))

    def _could_fill(self, trader: int, is_buy: bool, price: int, qty: int) -> bool:
        room_left: dict[tuple[int, int], int] = {}
        filled = 0
        for o in self._queue(is_buy, price):
            if o.trader == trader:
                continue
            avail = o.remaining
            if o.reduce_only:
                key = (o.trader, o.leg)
                room_left.setdefault(key, self._room(o.trader, o.leg, o.is_buy))
                avail = min(avail, room_left[key])
                take = min(avail, qty - filled)
                room_left[key] -= take
            filled += avail
            if filled >= qty:
                return True
        return False

    def place(self, oid: int, trader: int, is_buy: bool, price: int, qty: int, flags: int, leg: int) -> None:
        if flags & b.F_REDUCE_ONLY:
            room = self._room(trader, leg, is_buy)
            if room == 0 or (room < qty and flags & b.F_FOK):
                self.out.append((b.EV_REJECTED, oid, b.R_REDUCE_ONLY))
                return
            qty = min(qty, room)
        best = self._queue(is_buy, price)
        if flags & b.F_POST_ONLY and best:
            self.out.append((b.EV_REJECTED, oid, b.R_POST_ONLY))
            return
        if not flags & b.F_POST_ONLY and flags & b.F_FOK and not self._could_fill(trader, is_buy, price, qty):
            self.out.append((b.EV_REJECTED, oid, b.R_FOK))
            return
        self.out.append((b.EV_ACCEPTED, oid, qty))
        remaining = qty
        while remaining > 0:
            queue = self._queue(is_buy, price)
            if not queue:
                break
            maker = queue[0]
            if maker.trader == trader:
                self._remove(maker)
                self.out.append((b.EV_CANCELLED, maker.oid, maker.remaining, b.R_SELF_TRADE))
                continue
            if maker.reduce_only:
                room = self._room(maker.trader, maker.leg, maker.is_buy)
                if room == 0:
                    self._remove(maker)
                    self.out.append((b.EV_CANCELLED, maker.oid, maker.remaining, b.R_RO_SHRUNK))
                    continue
                if room < maker.remaining:
                    maker.remaining = room
                    self.out.append((b.EV_REDUCED, maker.oid, room, b.R_RO_SHRUNK))
            size = min(maker.remaining, remaining)
            maker.remaining -= size
            remaining -= size
            sign = 1 if is_buy else -1
            self.positions[(trader, leg)] = self.positions.get((trader, leg), 0) + sign * size
            mkey = (maker.trader, maker.leg)
            self.positions[mkey] = self.positions.get(mkey, 0) - sign * size
            self.out.append((b.EV_FILL, maker.oid, oid, maker.price, size, maker.remaining, remaining))
            if maker.remaining == 0:
                self._remove(maker)
        if remaining > 0:
            if flags & (b.F_IOC | b.F_FOK):
                self.out.append((b.EV_CANCELLED, oid, remaining, b.R_IOC))
                return
            self._seq += 1
            self.resting.append(
                _Resting(self._seq, oid, trader, is_buy, price, remaining, bool(flags & b.F_REDUCE_ONLY), leg)
            )

    def _remove(self, order: _Resting) -> None:
        self.resting = [o for o in self.resting if o is not order]

    def cancel(self, oid: int, reason: str = b.R_USER) -> None:
        for o in self.resting:
            if o.oid == oid:
                self._remove(o)
                self.out.append((b.EV_CANCELLED, oid, o.remaining, reason))
                return
        self.out.append((b.EV_REJECTED, oid, b.R_UNKNOWN))

    def cancel_all(self, trader: int) -> None:
        for o in sorted([o for o in self.resting if o.trader == trader], key=lambda o: o.seq):
            self.cancel(o.oid, b.R_CANCEL_ALL)

    def set_position(self, trader: int, leg: int, lots: int) -> None:
        self.positions[(trader, leg)] = lots

    def levels(self) -> tuple[list, list]:
        """Same shape as :meth:`MarketBook.levels`."""
        sides = []
        for is_buy in (True, False):
            orders = sorted(
                [o for o in self.resting if o.is_buy == is_buy],
                key=lambda o: (-o.price if is_buy else o.price, o.seq),
            )
            levels: list = []
            for o in orders:
                if not levels or levels[-1][0] != o.price:
                    levels.append((o.price, []))
                levels[-1][1].append((o.oid, o.remaining))
            sides.append(levels)
        return sides[0], sides[1]

    def aggregate(self) -> tuple[dict[int, int], dict[int, int]]:
        """Total size per price level: ``(bids, asks)``."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for o in self.resting:
            side = bids if o.is_buy else asks
            side[o.price] = side.get(o.price, 0) + o.remaining
        return bids, asks

    def position(self, trader: int, leg: int) -> int:
        return self.positions.get((trader, leg), 0)
