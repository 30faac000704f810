"""Fresh-state rounding (SECURITY 10, 14; P7): tiny and awkward sizes and prices never create value.

Each example starts from a fresh chain state (snapshot / restore), opens a position and closes it in
several pieces at the same price: the sum of realised PnL is never positive for either side, the
chain equals the reference model to the wei, and the engine's pool identity holds.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction

from helpers import isolated
from hypothesis import given, settings
from hypothesis import strategies as st
from perp_helpers import ETH, USDC, make_model

from offchain.perp import math as pm
from offchain.perp.math import ONE
from offchain.perp.model import Fill, ModelRevert


@settings(max_examples=8 if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci" else settings().max_examples)
@given(
    market=st.sampled_from(["eth20", "inv20"]),
    lots=st.integers(1, 10_000),
    price_ticks=st.one_of(st.integers(1, 10**8), st.integers(10**6, 10**8)),
    pieces=st.lists(st.integers(1, 100), min_size=1, max_size=3),
)
def test_round_trip_never_gains(
    chain,
    engine,
    registry,
    oracle,
    admin,
    vault,
    usdc,
    weth,
    markets,
    funded,
    operator,
    zero_fees,
    market,
    lots,
    price_ticks,
    pieces,
):
    alice, bob, _ = funded
    mid = markets[market]
    inverse = market == "inv20"
    with isolated(chain):
        for t in (alice, bob):
            vault.deposit(usdc, 10_000 * USDC, sender=t)
            vault.deposit(weth, 100 * ONE, sender=t)
        price = price_ticks * 10**14  # 0.0001 .. 10,000 USD
        oracle.setPrice(ETH, price, sender=admin)
        # awkward rates so that every requirement has a remainder to round: imr = ceil(1/21), mmr = 2% - 1 wei
        registry.setRiskParams(mid, [ONE // 21 + 1, ONE // 50 - 1, 0, ONE // 50 - 1, 0], sender=admin)
        model = make_model(registry, oracle, markets, vault, [str(alice), str(bob)], [str(usdc), str(weth)], engine)
        model.tiers = [type(t)(t.min_volume, 0, 0) for t in model.tiers]
        lot = registry.getMarket(mid).trading.lotSizeX18
        size = lots * lot
        token = weth if inverse else usdc
        fills = [Fill(mid, str(bob), str(alice), True, size, price)]
        remaining = size
        for p in pieces:
            part = min(remaining, max(lot, size * p // 100 // lot * lot))
            if part:
                fills.append(Fill(mid, str(bob), str(alice), False, part, price))
                remaining -= part
        if remaining:
            fills.append(Fill(mid, str(bob), str(alice), False, remaining, price))
        for i, f in enumerate(fills):
            try:
                model.apply_fills([f], 0)
            except ModelRevert:
                return  # below margin at this price: nothing to learn about rounding
            engine.applyFills([f.as_tuple()], sender=operator)
            if i == 0:  # open: requirements round up, equity down, exactly as the reference (P7)
                s = model.evaluate(str(alice), str(token))
                exact_eq, exact_im, exact_mm = model.exact(str(alice), str(token))
                assert engine.initialMargin(alice, token) == s.initial >= math.ceil(exact_im)
                assert engine.maintenanceMargin(alice, token) == s.maintenance >= math.ceil(exact_mm)
                assert engine.equity(alice, token) == s.equity <= math.floor(exact_eq)
        for who in (alice, bob):
            cash = engine.unsettledX18(who, token)
            assert cash == model.unsettled.get((str(who), str(token)), 0)
            assert cash <= 0  # a flat round trip at one price never gains
            assert engine.positionOf(who, mid, 0).size == 0
        # both sides together lose at most one atom per close to rounding, never gain
        total = engine.unsettledX18(alice, token) + engine.unsettledX18(bob, token)
        assert -len(fills) <= total <= 0
        assert model.pool_identity(str(token)) == vault.balances(engine, token)


@given(
    inverse=st.booleans(),
    size=st.integers(-(10**30), 10**30).filter(bool),
    price=st.integers(1, 10**30),
    rate=st.integers(1, 10**18),
)
def test_reference_rounding_directions(inverse, size, price, rate):
    """The model's primitives (which the chain matches to the wei) round the way SPEC section 2 says."""
    exact = pm.exact_value(inverse, size, price)
    assert pm.mark_value_floor(inverse, size, price) == math.floor(exact)
    assert pm.value_up(inverse, size, price) == math.ceil(exact)
    assert pm.value_up(inverse, size, price) + pm.value_up(inverse, -size, price) in (0, 1)
    assert pm.notional_up(inverse, abs(size), price) == math.ceil(abs(exact))
    assert pm.mul_rate_up(abs(size), rate) == math.ceil(Fraction(abs(size) * rate, ONE))
    assert pm.funding_owed_up(size, rate) == math.ceil(Fraction(size * rate, ONE))
