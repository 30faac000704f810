"""Funding plumbing: cumulative index per market, lazy per-leg settlement, zero-sum with the rounding
surplus swept to the insurance fund (SECURITY P5)."""

from __future__ import annotations

import ape
import pytest
from perp_helpers import ETH, INSURANCE, USDC, apply, fill, make_model, sync_fees

from offchain.perp import math as pm
from offchain.perp.math import ONE
from offchain.perp.model import FLAG_SHORT_LEG, settle_funding


@pytest.fixture
def setup(registry, oracle, markets, vault, fees, engine, usdc, weth, funded):
    for t in funded:
        vault.deposit(usdc, 100_000 * USDC, sender=t)
        vault.deposit(weth, 10 * ONE, sender=t)
    m = make_model(registry, oracle, markets, vault, [str(a) for a in funded], [str(usdc), str(weth)], engine)
    sync_fees(m, fees)
    return m


def day():
    return ape.chain.pending_timestamp // 86400


def surplus_x36(engine, market):
    st = engine.marketStates(market)
    return st.fundingPoolX18 * ONE - st.fundingWeightX36


@pytest.mark.parametrize("name", ["eth20", "inv20"])
def test_funding_accrues_lazily_and_matches_reference(
    engine, markets, operator, keeper, oracle, admin, setup, funded, usdc, weth, name
):
    model = setup
    alice, bob, carol = funded
    mid = markets[name]
    token = weth if name == "inv20" else usdc
    inverse = name == "inv20"
    lot = ONE if inverse else ONE // 1000
    engine.setHedgeMode(mid, True, sender=carol)
    model.set_hedge_mode(str(carol), mid, True)
    steps = [
        ("fill", fill(mid, bob, alice, 1_234 * lot, 2_000 * ONE)),
        ("fund", 10**14 + 7),
        ("fill", fill(mid, alice, carol, 333 * lot, 2_010 * ONE, buy=False, tflags=FLAG_SHORT_LEG)),
        ("price", 2_111_1111 * 10**14),
        ("fund", -(3 * 10**14 + 1)),
        ("fill", fill(mid, bob, carol, 777 * lot, 2_100 * ONE)),
        ("fund", 2 * 10**14 + 13),
        ("fund", 10**13 + 1),
    ]
    for kind, arg in steps:
        if kind == "fill":
            apply(engine, operator, arg)
            model.apply_fills([arg], day())
        elif kind == "price":
            oracle.setPrice(ETH, arg, sender=admin)
            model.prices[ETH] = arg
        else:
            tx = engine.accrueFunding(mid, arg, sender=keeper)
            per_unit = model.accrue_funding(mid, arg)
            [ev] = tx.events.filter(engine.FundingAccrued)
            assert (ev.rateX18, ev.perUnitX18, ev.indexX18) == (arg, per_unit, model.state(mid).index)
            assert per_unit == pm.funding_per_unit(inverse, arg, model.prices[ETH])
        for a in funded:
            assert engine.equity(a, token) == model.evaluate(str(a), str(token)).equity
            assert engine.unsettledX18(a, token) == model.unsettled.get((str(a), str(token)), 0)
        assert surplus_x36(engine, mid) >= 0  # P5 at every step
        st = engine.marketStates(mid)
        assert (st.fundingPoolX18, st.fundingWeightX36) == (model.state(mid).pool, model.state(mid).weight)
    # settle everybody: pool holds at most one atom per settlement more than exact zero-sum
    for a in funded:
        tx = engine.settleFunding(a, mid, sender=alice)
        settle_funding(model, str(a), mid)
        for ev in tx.events.filter(engine.FundingSettled):
            assert ev.account == a.address
    st = engine.marketStates(mid)
    assert (st.fundingPoolX18, st.fundingWeightX36) == (model.state(mid).pool, model.state(mid).weight)
    assert st.fundingPoolX18 * ONE - st.fundingWeightX36 >= 0
    swept = engine.sweepFundingSurplus(mid, sender=alice)
    expected = model.sweep_funding_surplus(mid, INSURANCE)
    assert engine.unsettledX18(INSURANCE, token) == expected
    if expected:
        [ev] = swept.events.filter(engine.FundingSurplusSwept)
        assert ev.amountX18 == expected
    assert expected <= 3 * 4  # at most one atom per leg settlement (3 accounts x 4 touches)
    assert surplus_x36(engine, mid) >= 0
    assert engine.sweepFundingSurplus(mid, sender=alice).return_value in (0, None)
    assert engine.unsettledX18(INSURANCE, token) == expected


def test_longs_pay_shorts_when_rate_positive(engine, markets, operator, keeper, setup, funded, usdc, zero_fees):
    alice, bob, _ = funded
    e = markets["eth20"]
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    engine.accrueFunding(e, 10**15, sender=keeper)  # 0.1% of 2,000 = 2 USDC per ETH
    assert engine.equity(alice, usdc) == 100_000 * ONE - 2 * ONE
    assert engine.equity(bob, usdc) == 100_000 * ONE + 2 * ONE
    engine.settleFunding(alice, e, sender=bob)
    assert engine.unsettledX18(alice, usdc) == -2 * ONE
    assert engine.marketStates(e).fundingPoolX18 == 2 * ONE


def test_funding_epoch_marks_legs_whose_snapshot_is_current(
    engine, markets, operator, keeper, setup, funded, usdc, zero_fees
):
    """A fill reads a leg's funding snapshot only when the market's funding epoch moved since the leg last
    settled; a fill after an accrual still settles the pending funding first, and stamps the new epoch."""
    alice, bob, carol = funded
    e = markets["eth20"]
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    epoch = engine.fundingEpochOf(e)
    engine.accrueFunding(e, 10**15, sender=keeper)  # 2 USDC per ETH, longs pay
    assert engine.fundingEpochOf(e) == epoch + 1
    tx = apply(engine, operator, fill(e, carol, alice, ONE, 2_000 * ONE))
    settled = [(ev.account, ev.amountX18) for ev in tx.events.filter(engine.FundingSettled)]
    assert settled == [(alice.address, 2 * ONE)]
    assert engine.unsettledX18(alice, usdc) == -2 * ONE
    assert engine.positionOf(alice, e, 0).fundingSnapshotX18 == engine.marketStates(e).fundingIndexX18
    tx = apply(engine, operator, fill(e, carol, alice, ONE, 2_000 * ONE, buy=False))  # no accrual since
    assert list(tx.events.filter(engine.FundingSettled)) == []
    assert engine.unsettledX18(alice, usdc) == -2 * ONE
    assert engine.equity(alice, usdc) == 100_000 * ONE - 2 * ONE
    # bob was not touched since the accrual: his valuation reads the snapshot slot and counts what he is owed
    assert engine.equity(bob, usdc) == 100_000 * ONE + 2 * ONE


def test_settle_funding_on_flat_account_is_a_no_op(engine, markets, setup, funded, usdc):
    alice = funded[0]
    tx = engine.settleFunding(alice, markets["eth20"], sender=alice)
    assert list(tx.events.filter(engine.FundingSettled)) == []
    assert engine.unsettledX18(alice, usdc) == 0
