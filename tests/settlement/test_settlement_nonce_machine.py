"""State machine: fills, cancels by hash and floor raises against the nonce window of SettlementOrders.

Two traders (bob, carol) fill orders (as maker or taker, fully or partially) against a fixed counterparty (alice,
fresh nonces) with nonces drawn at the floor, inside the 96-nonce head window, at its edge, just beyond it, around
128-nonce word boundaries, far away and below the floor; cancel orders by hash; raise their floor by small and
large jumps (past the whole window, exactly to window / word boundaries, onto recorded nonces); and try to fill
consumed, cancelled and below-floor orders again. A plain Python model of the order semantics (a nonce is consumed
once an order with it fills completely; partial fills and cancels per order hash; below the floor = cancelled)
predicts every fill's outcome (success, or SettlementFillRejected with the reason, checked by ``eth_call``) and,
after every step, ``orderState`` of every order seen and ``nonceFloor`` of both traders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers import machine_settings, static_revert_error
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from settle_helpers import LOT, engine_error, order, settle

from offchain.orders.order import Order
from offchain.settlement.fills import order_tuple

UNIT = 10 * LOT  # 0.01 ETH: every fill is tiny against the traders' 100k USDC
MAX_NONCE = 2**64 - 1
WINDOW, WORD = 96, 128
# FillError reasons (ISettlement): (cancelled, overfill) for the maker and for the taker side
REASONS = {True: (15, 17), False: (16, 18)}

# Nonce targets, relative to the trader's floor F at the time of the step: (kind, parameter).
NONCE_TARGETS = st.one_of(
    st.tuples(st.just("floor"), st.integers(0, 3)),  # F .. F + 3
    st.tuples(st.just("window"), st.integers(0, WINDOW - 1)),  # anywhere in the head window
    st.tuples(st.just("edge"), st.integers(WINDOW - 4, WINDOW + 4)),  # around its last nonce
    st.tuples(st.just("beyond"), st.integers(WINDOW, 2 * WINDOW)),  # enter the window on a raise of up to 96
    st.tuples(st.just("word"), st.integers(0, 11)),  # 128-nonce word boundaries above F (-1, 0, +1)
    st.tuples(st.just("far"), st.integers(0, 3)),  # F + 2**32 + k
    st.tuples(st.just("below"), st.integers(1, 2 * WORD)),  # under the floor (cancelled)
    st.tuples(st.just("top"), st.integers(0, 2)),  # the last uint64 nonces
)
ACTIONS = st.sampled_from(["fill", "fill", "refill", "sibling", "cancel", "cancel_seen", "raise", "raise"])
# Floor raises, relative to F: (kind, parameter).
FLOOR_TARGETS = st.one_of(
    st.tuples(st.just("step"), st.integers(1, 8)),  # small slides: most of the window kept
    st.tuples(st.just("slide"), st.integers(9, WINDOW - 2)),  # part of the window kept
    st.tuples(st.just("window"), st.integers(WINDOW - 1, WINDOW + 1)),  # the whole window, exactly
    st.tuples(st.just("jump"), st.integers(WINDOW + 2, 3 * WORD)),  # past the whole window
    st.tuples(st.just("word"), st.integers(0, 8)),  # onto a 128-nonce word boundary (-1, 0, +1)
    st.tuples(st.just("window_word"), st.integers(0, 8)),  # the new window ends on a word boundary
    st.tuples(st.just("order"), st.integers(0, 10**6)),  # a seen nonce just leaves, or enters the window
    st.tuples(st.just("far"), st.integers(0, 1)),  # F + 2**32 (+1)
)


@dataclass
class TraderModel:
    """What the contract promises about one trader's orders (no storage layout in here)."""

    floor: int = 0
    consumed: set[int] = field(default_factory=set)  # nonces of orders that filled completely
    filled: dict[bytes, int] = field(default_factory=dict)  # partial fills by order hash
    cancelled: set[bytes] = field(default_factory=set)  # cancelled by hash

    def state(self, o: Order, h: bytes) -> tuple[int, bool]:
        filled = o.size if o.nonce in self.consumed else self.filled.get(h, 0)
        return filled, h in self.cancelled or o.nonce < self.floor

    def rejection(self, o: Order, h: bytes, size: int, maker: bool) -> int | None:
        """The FillError of filling ``size`` more of ``o`` (checks in the contract's order), or None."""
        cancelled, overfill = REASONS[maker]
        if o.nonce < self.floor:
            return cancelled
        if o.nonce in self.consumed:
            return overfill
        if h in self.cancelled:
            return cancelled
        if self.filled.get(h, 0) + size > o.size:
            return overfill
        return None

    def fill(self, o: Order, h: bytes, size: int) -> None:
        total = self.filled.get(h, 0) + size
        if total == o.size:
            self.consumed.add(o.nonce)
            self.filled.pop(h, None)
        else:
            self.filled[h] = total


def nonce_of(target: tuple[str, int], floor: int) -> int:
    kind, k = target
    if kind in ("floor", "window", "edge", "beyond"):
        nonce = floor + k
    elif kind == "word":
        nonce = ((floor >> 7) + 1 + k // 3) * WORD + k % 3 - 1
    elif kind == "far":
        nonce = floor + 2**32 + k
    elif kind == "below":
        nonce = max(floor - k, 0)
    else:
        nonce = MAX_NONCE - k
    return min(nonce, MAX_NONCE)


def floor_of(target: tuple[str, int], floor: int, seen: list[int]) -> int:
    kind, k = target
    if kind in ("step", "slide", "window", "jump"):
        return floor + k
    if kind == "word":
        return ((floor >> 7) + 1 + k // 3) * WORD + k % 3 - 1
    if kind == "window_word":  # floor + 96 lands on a word boundary (-1, 0, +1)
        return ((floor + WINDOW) // WORD + 1 + k // 3) * WORD - WINDOW + k % 3 - 1
    if kind == "order":  # a nonce seen: at the floor, just below it, or at the window's last two nonces
        shift = (0, 1, 1 - WINDOW, 2 - WINDOW)[k % 4]
        candidates = sorted({n + shift for n in seen if n + shift > floor})
        return candidates[(k // 4) % len(candidates)] if candidates else floor + 1
    return floor + 2**32 + k


def test_nonce_window_machine(chain, settlement, perp, operator, funded, signer):
    alice, bob, carol = funded
    traders = (bob, carol)
    domain = signer.domain

    class NonceMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            self.snapshot = chain.snapshot()
            self.models = [TraderModel(), TraderModel()]
            self.orders: list[tuple[int, Order, bytes]] = []  # (trader index, order, hash), every one seen
            self.known: set[bytes] = set()
            self.counter_nonce = 0  # alice's orders: fresh nonces, each filled completely

        def teardown(self) -> None:
            if hasattr(self, "snapshot"):
                chain.restore(self.snapshot)

        # -- helpers
        def _order(self, t: int, nonce: int, units: int, buy: bool) -> tuple[int, Order, bytes]:
            o = order(traders[t], buy=buy, size=units * UNIT, nonce=nonce)
            h = bytes(o.digest(domain))
            if h not in self.known:
                self.known.add(h)
                self.orders.append((t, o, h))
            return t, o, h

        def _fill(self, entry: tuple[int, Order, bytes], amount: int, maker: bool) -> None:
            t, o, h = entry
            model = self.models[t]
            left = o.size - model.state(o, h)[0]
            size = amount * UNIT if amount else (left or o.size)
            self.counter_nonce += 1
            other = order(alice, buy=not o.isBuy, size=size, nonce=self.counter_nonce)
            if maker:
                fill = signer.fill(o, traders[t], other, alice, size=size)
            else:
                fill = signer.fill(other, alice, o, traders[t], size=size)
            reason = model.rejection(o, h, size, maker)
            if reason is None:
                settle(settlement, operator, [fill])
                model.fill(o, h, size)
            else:
                engine_error(settlement, perp.engine, operator, [fill], "SettlementFillRejected", fillIndex=0,
                             reason=reason)  # fmt: skip

        def _seen(self, t: int, pick: int) -> tuple[int, Order, bytes] | None:
            mine = [e for e in self.orders if e[0] == t]
            return mine[pick % len(mine)] if mine else None

        # -- the one rule (hypothesis' swarm testing switches whole rules off per example: one rule keeps every
        # action in every example)
        @rule(action=ACTIONS, t=st.integers(0, 1), at=NONCE_TARGETS, to=FLOOR_TARGETS, pick=st.integers(0, 10**6),
              units=st.integers(1, 4), buy=st.booleans(), amount=st.one_of(st.just(0), st.integers(1, 4)),
              maker=st.booleans())  # fmt: skip
        def step(self, action, t, at, to, pick, units, buy, amount, maker) -> None:
            """``fill``: an order at nonce target ``at`` (``amount`` 0: completely, else that many units);
            ``refill``: an order seen before (the rest of a partial fill, or consumed / cancelled / below floor);
            ``sibling``: another order with a seen order's nonce, completely (consumes the nonce for both);
            ``cancel`` / ``cancel_seen``: by hash; ``raise``: the floor to target ``to``."""
            floor = self.models[t].floor
            seen = self._seen(t, pick)
            if action == "raise":
                self._raise_floor(t, to)
            elif action == "fill" or seen is None:
                entry = self._order(t, nonce_of(at, floor), units, buy)
                if action == "cancel":
                    self._cancel(entry)
                else:
                    self._fill(entry, amount, maker)
            elif action == "refill":
                self._fill(seen, amount, maker)
            elif action == "sibling":
                _, o, _ = seen
                self._fill(self._order(t, o.nonce, o.size // UNIT + 1, o.isBuy), 0, maker)
            else:
                self._cancel(self._order(t, nonce_of(at, floor), units, buy) if action == "cancel" else seen)

        def _cancel(self, entry: tuple[int, Order, bytes]) -> None:
            t, o, h = entry
            settlement.cancelOrder(order_tuple(o), sender=traders[t])
            self.models[t].cancelled.add(h)

        def _raise_floor(self, t: int, to: tuple[str, int]) -> None:
            model = self.models[t]
            new = floor_of(to, model.floor, [o.nonce for i, o, _ in self.orders if i == t])
            if new <= model.floor or new > MAX_NONCE:
                err = static_revert_error(settlement, "cancelBelowNonce", new, sender=traders[t])
                expected = "SettlementNonceFloorNotIncreasing" if new <= model.floor else "SettlementNonceFloorTooLarge"
                assert type(err).__name__ == expected, err
                return
            settlement.cancelBelowNonce(new, sender=traders[t])
            model.floor = new

        # -- invariants
        @invariant()
        def states_match_model(self) -> None:
            if not hasattr(self, "models"):
                return
            for t, trader in enumerate(traders):
                assert settlement.nonceFloor(trader) == self.models[t].floor
            for t, o, h in self.orders:
                got = tuple(settlement.orderState(order_tuple(o)))
                want = self.models[t].state(o, h)
                assert (bytes(got[0]), got[1], got[2]) == (h, *want), (
                    f"order {o.nonce} of trader {t}: {got[1:]} != {want}"
                )

    run_state_machine_as_test(NonceMachine, settings=machine_settings(ci=(5, 40), nightly=(40, 60)))
