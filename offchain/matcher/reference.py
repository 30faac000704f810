"""A deliberately simple reference book: per side a dict price -> FIFO list, best price by min/max.

Same interface and the same documented policies as :class:`offchain.matcher.book.MarketBook`
(price-time priority, maker price, STP cancels the resting order, post-only reject, FOK all or
nothing, reduce-only clipping), written for obviousness rather than speed. Tests and the benchmark
compare the fast book against it. It produces the same non-depth events; depth is compared through
:meth:`ReferenceBook.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.matcher import book as b


@dataclass(eq=False)  # identity equality: list.remove must find this very order
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
    """Naive price-time priority book (ticks and lots): a dict of price -> list per side."""

    def __init__(self) -> None:
        self.sides: dict[bool, dict[int, list[_Resting]]] = {True: {}, False: {}}  # is_buy -> price -> FIFO
        self.index: dict[int, _Resting] = {}
        self.positions: dict[tuple[int, int], int] = {}
        self.out: list[tuple] = []
        self._seq = 0

    def _room(self, trader: int, leg: int, is_buy: bool) -> int:
        """How much an order on this side can reduce the trader's position in ``leg``."""
        p = self.positions.get((trader, leg), 0)
        return max(0, -p if is_buy else p)

    def _crossing_prices(self, is_buy: bool, price: int) -> list[int]:
        """Opposite-side prices an incoming order may trade at, best first."""
        opposite = self.sides[not is_buy]
        if is_buy:
            return sorted(p for p in opposite if p <= price)
        return sorted((p for p in opposite if p >= price), reverse=True)

    def _best_maker(self, is_buy: bool, price: int) -> _Resting | None:
        opposite = self.sides[not is_buy]
        if not opposite:
            return None
        best = min(opposite) if is_buy else max(opposite)
        if (is_buy and best > price) or (not is_buy and best < price):
            return None
        return opposite[best][0]

    def _could_fill(self, trader: int, is_buy: bool, price: int, qty: int) -> bool:
        room_left: dict[tuple[int, int], int] = {}
        filled = 0
        for level_price in self._crossing_prices(is_buy, price):
            for o in self.sides[not is_buy][level_price]:
                if o.trader == trader:
                    continue
                avail = o.remaining
                if o.reduce_only:
                    key = (o.trader, o.leg)
                    room_left.setdefault(key, self._room(o.trader, o.leg, o.is_buy))
                    avail = min(avail, room_left[key])
                    room_left[key] -= min(avail, qty - filled)
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
        if flags & b.F_POST_ONLY and self._best_maker(is_buy, price) is not None:
            self.out.append((b.EV_REJECTED, oid, b.R_POST_ONLY))
            return
        if not flags & b.F_POST_ONLY and flags & b.F_FOK and not self._could_fill(trader, is_buy, price, qty):
            self.out.append((b.EV_REJECTED, oid, b.R_FOK))
            return
        self.out.append((b.EV_ACCEPTED, oid, qty))
        remaining = qty
        while remaining > 0:
            maker = self._best_maker(is_buy, price)
            if maker is None:
                break
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
            order = _Resting(self._seq, oid, trader, is_buy, price, remaining, bool(flags & b.F_REDUCE_ONLY), leg)
            self.sides[is_buy].setdefault(price, []).append(order)
            self.index[oid] = order

    def _remove(self, order: _Resting) -> None:
        level = self.sides[order.is_buy][order.price]
        level.remove(order)
        if not level:
            del self.sides[order.is_buy][order.price]
        del self.index[order.oid]

    def cancel(self, oid: int, reason: str = b.R_USER) -> None:
        order = self.index.get(oid)
        if order is None:
            self.out.append((b.EV_REJECTED, oid, b.R_UNKNOWN))
            return
        self._remove(order)
        self.out.append((b.EV_CANCELLED, oid, order.remaining, reason))

    def cancel_all(self, trader: int) -> None:
        for o in sorted([o for o in self.index.values() if o.trader == trader], key=lambda o: o.seq):
            self.cancel(o.oid, b.R_CANCEL_ALL)

    def set_position(self, trader: int, leg: int, lots: int) -> None:
        self.positions[(trader, leg)] = lots

    def levels(self) -> tuple[list, list]:
        """Same shape as :meth:`MarketBook.levels`."""
        bids = [
            (p, [(o.oid, o.remaining) for o in self.sides[True][p]]) for p in sorted(self.sides[True], reverse=True)
        ]
        asks = [(p, [(o.oid, o.remaining) for o in self.sides[False][p]]) for p in sorted(self.sides[False])]
        return bids, asks

    def aggregate(self) -> tuple[dict[int, int], dict[int, int]]:
        """Total size per price level: ``(bids, asks)``."""
        bids = {p: sum(o.remaining for o in level) for p, level in self.sides[True].items()}
        asks = {p: sum(o.remaining for o in level) for p, level in self.sides[False].items()}
        return bids, asks

    def position(self, trader: int, leg: int) -> int:
        return self.positions.get((trader, leg), 0)
