"""SECURITY 5 (cancels, nonce floor) and overfill across batches with the nonce window: the head word holds the
floor and the bits of the 96 nonces above it; raising the floor moves the bits of the nonces leaving and entering
the window (also across the 128-nonce words of the other nonces) without losing a fill, a consumption or a cancel."""

from __future__ import annotations

import ape
from settle_helpers import ONE, order, settle

from offchain.settlement.fills import order_tuple

OVERFILL, CANCELLED = 17, 15  # FillError.MakerOverfill, FillError.MakerCancelled


class Book:
    """Fills of one maker against one taker (fresh taker nonces from 10,000 on)."""

    def __init__(self, settlement, operator, signer, maker, taker):
        self.s, self.operator, self.signer, self.maker, self.taker = settlement, operator, signer, maker, taker
        self.taker_nonce = 10_000

    def order(self, nonce: int, size: int = ONE):
        return order(self.maker, buy=False, size=size, nonce=nonce)

    def fill(self, maker_order, size: int = ONE):
        self.taker_nonce += 1
        taker_order = order(self.taker, buy=True, size=size, nonce=self.taker_nonce)
        return self.signer.fill(maker_order, self.maker, taker_order, self.taker, size=size)

    def settle(self, *fills):
        return settle(self.s, self.operator, list(fills))

    def rejected(self, fill, reason: int):
        with ape.reverts(self.s.SettlementFillRejected, fillIndex=0, reason=reason):
            settle(self.s, self.operator, [fill])

    def state(self, maker_order) -> tuple[int, bool]:
        return tuple(self.s.orderState(order_tuple(maker_order))[1:])


def test_small_floor_raise_moves_bits_both_ways(settlement, operator, funded, signer):
    """Floor 0 -> 50: nonces 10, 11 leave the window (their fills stay readable), 127, 129, 130 (stored in two
    128-nonce words) enter it and stay consumed / partially filled / cancelled."""
    alice, bob, _ = funded
    b = Book(settlement, operator, signer, bob, alice)
    full10, part11, full127, part129, cancel130 = (b.order(10), b.order(11, 2 * ONE), b.order(127),
                                                   b.order(129, 2 * ONE), b.order(130))  # fmt: skip
    b.settle(b.fill(full10), b.fill(part11), b.fill(full127), b.fill(part129))
    settlement.cancelOrder(order_tuple(cancel130), sender=bob)
    settlement.cancelBelowNonce(50, sender=bob)
    assert settlement.nonceFloor(bob) == 50
    assert (b.state(full10), b.state(part11)) == ((ONE, True), (ONE, True))
    assert (b.state(full127), b.state(part129), b.state(cancel130)) == ((ONE, False), (ONE, False), (0, True))
    b.rejected(b.fill(full127), OVERFILL)
    b.rejected(b.fill(part129, 2 * ONE), OVERFILL)
    b.rejected(b.fill(cancel130), CANCELLED)
    b.rejected(b.fill(full10), CANCELLED)
    b.settle(b.fill(part129))  # the remaining half, from the window now
    assert b.state(part129) == (2 * ONE, False)
    b.rejected(b.fill(part129), OVERFILL)


def test_floor_jump_beyond_the_window(settlement, operator, funded, signer):
    """Floor 100 -> 250: the whole window [100, 196) leaves (across the words of nonces 0-127 and 128-255), the
    new window [250, 346) is read from two words (nonce 300 consumed before the raise)."""
    alice, _, carol = funded
    b = Book(settlement, operator, signer, carol, alice)
    settlement.cancelBelowNonce(100, sender=carol)
    full120, part130, full300, cancel260 = b.order(120), b.order(130, 2 * ONE), b.order(300), b.order(260)
    b.settle(b.fill(full120), b.fill(part130), b.fill(full300))
    settlement.cancelOrder(order_tuple(cancel260), sender=carol)
    settlement.cancelBelowNonce(250, sender=carol)
    assert (b.state(full120), b.state(part130)) == ((ONE, True), (ONE, True))
    assert (b.state(full300), b.state(cancel260)) == ((ONE, False), (0, True))
    b.rejected(b.fill(full300), OVERFILL)
    b.rejected(b.fill(cancel260), CANCELLED)
    fresh = b.order(345)  # last nonce of the window
    b.settle(b.fill(fresh))
    assert b.state(fresh) == (ONE, False)
    b.rejected(b.fill(fresh), OVERFILL)
    settlement.cancelOrder(order_tuple(b.order(7)), sender=carol)  # below the floor: still recorded
    assert b.state(b.order(7)) == (0, True)


def test_floor_is_a_uint64(settlement, operator, funded, signer):
    alice, bob, _ = funded
    with ape.reverts(settlement.SettlementNonceFloorTooLarge, requested=2**64, max=2**64 - 1):
        settlement.cancelBelowNonce(2**64, sender=alice)
    settlement.cancelBelowNonce(2**64 - 1, sender=alice)
    assert settlement.nonceFloor(alice) == 2**64 - 1
    b = Book(settlement, operator, signer, alice, bob)
    last = b.order(2**64 - 1)
    b.rejected(b.fill(b.order(2**64 - 2)), CANCELLED)
    b.settle(b.fill(last))
    assert b.state(last) == (ONE, False)
    b.rejected(b.fill(last), OVERFILL)
