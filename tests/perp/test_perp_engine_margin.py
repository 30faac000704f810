"""Must-show margin cases: 50x / 20x / 21x leverage, the exact maintenance boundary, inverse PnL to the wei."""

from __future__ import annotations

from fractions import Fraction

import ape
import pytest
from perp_helpers import BTC, ETH, ONE, USDC, apply, fill, make_model, sync_fees, usd

from offchain.perp import math as pm
from offchain.perp.fill_log import fills_applied
from offchain.perp.model import ModelRevert


@pytest.fixture
def deposit(vault, usdc, weth, funded):
    def _deposit(account, token, amount):
        vault.deposit(token, amount, sender=account)

    return _deposit


def test_50x_market_allows_exactly_50x_and_rejects_beyond(
    engine, markets, operator, usdc, deposit, alice, bob, zero_fees
):
    deposit(alice, usdc, 100 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    # 0.1 BTC at 50,000 = 5,000 notional on 100 collateral: exactly 50x
    tx = apply(engine, operator, fill(markets["btc50"], bob, alice, ONE // 10, 50_000 * ONE))
    assert engine.initialMargin(alice, usdc) == 100 * ONE
    assert engine.equity(alice, usdc) == 100 * ONE
    [ev] = fills_applied(tx, engine)
    assert (ev.marketId, ev.maker, ev.taker, ev.sizeX18, ev.priceX18) == (
        markets["btc50"],
        bob.address,
        alice.address,
        ONE // 10,
        50_000 * ONE,
    )
    # one more lot (0.001 BTC = 50 USD) takes alice past 50x
    with ape.reverts(
        engine.PerpEngineInsufficientMargin, account=alice, token=usdc, equityX18=100 * ONE, requiredX18=101 * ONE
    ):
        apply(engine, operator, fill(markets["btc50"], bob, alice, ONE // 1000, 50_000 * ONE))


def test_50x_market_rejects_a_single_trade_past_50x(engine, markets, operator, usdc, deposit, alice, bob, zero_fees):
    deposit(alice, usdc, 100 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    with ape.reverts(engine.PerpEngineInsufficientMargin):
        apply(engine, operator, fill(markets["btc50"], bob, alice, ONE // 10 + ONE // 1000, 50_000 * ONE))


def test_20x_market_allows_20x(engine, markets, operator, usdc, deposit, alice, bob, zero_fees):
    deposit(alice, usdc, 100 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    apply(engine, operator, fill(markets["eth20"], bob, alice, ONE, 2_000 * ONE))
    assert engine.initialMargin(alice, usdc) == 100 * ONE
    assert engine.marginRatio(alice, usdc) == ONE  # M = equity / IM = 1 exactly at max leverage


def test_20x_market_rejects_21x(engine, markets, operator, usdc, deposit, alice, bob, zero_fees):
    deposit(alice, usdc, 100 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    # 1.05 ETH at 2,000 = 2,100 notional = 21x on 100
    with ape.reverts(
        engine.PerpEngineInsufficientMargin, account=alice, token=usdc, equityX18=100 * ONE, requiredX18=105 * ONE
    ):
        apply(engine, operator, fill(markets["eth20"], bob, alice, 1_050 * ONE // 1000, 2_000 * ONE))


def test_the_same_trade_at_21x_reverts_on_the_50x_market_only_past_50x(
    engine, markets, operator, usdc, deposit, alice, bob, zero_fees
):
    # 21x is fine on the 50x market: leverage is per market
    deposit(alice, usdc, 100 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    apply(engine, operator, fill(markets["btc50"], bob, alice, 42 * ONE // 1000, 50_000 * ONE))
    assert engine.initialMargin(alice, usdc) == 42 * ONE


def test_maintenance_boundary_exact(
    registry, vault, engine, markets, operator, oracle, admin, usdc, deposit, alice, bob, zero_fees
):
    """Long 0.1 BTC at 50,000 with 149 USDC: at 49,000 equity = 49 = 1% of 4,900 exactly."""
    deposit(alice, usdc, 149 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    apply(engine, operator, fill(markets["btc50"], bob, alice, ONE // 10, 50_000 * ONE))
    oracle.setPrice(BTC, 49_000 * ONE, sender=admin)
    assert engine.equity(alice, usdc) == 49 * ONE
    assert engine.maintenanceMargin(alice, usdc) == 49 * ONE
    assert not engine.isLiquidatable(alice, usdc)
    # one wei of price lower: equity drops by one wei (rounded down), the requirement stays 49
    oracle.setPrice(BTC, 49_000 * ONE - 1, sender=admin)
    assert engine.equity(alice, usdc) == 49 * ONE - 1
    assert engine.maintenanceMargin(alice, usdc) == 49 * ONE
    assert engine.isLiquidatable(alice, usdc)
    # and the boundary itself agrees with the exact reference
    model = make_model(registry, oracle, markets, vault, [str(alice), str(bob)], [str(usdc)], engine)
    model.prices[BTC] = 50_000 * ONE
    model.apply_fills([fill(markets["btc50"], bob, alice, ONE // 10, 50_000 * ONE)], day=0)
    model.prices[BTC] = 49_000 * ONE - 1
    s = model.evaluate(str(alice), str(usdc))
    eq, _, mm = model.exact(str(alice), str(usdc))
    assert (s.equity, s.maintenance) == (49 * ONE - 1, 49 * ONE)
    assert s.equity <= eq and s.maintenance >= mm


def test_maintenance_boundary_one_collateral_unit_below(
    engine, markets, operator, oracle, admin, usdc, deposit, alice, bob, zero_fees
):
    """Same position with one USDC atom less collateral is liquidatable at the boundary price."""
    deposit(alice, usdc, 149 * USDC - 1)
    deposit(bob, usdc, 100_000 * USDC)
    apply(engine, operator, fill(markets["btc50"], bob, alice, ONE // 10, 50_000 * ONE))
    oracle.setPrice(BTC, 49_000 * ONE, sender=admin)
    assert engine.equity(alice, usdc) == 49 * ONE - 10**12
    assert engine.isLiquidatable(alice, usdc)


def test_inverse_pnl_matches_reference_to_the_wei(
    registry, fees, engine, markets, operator, oracle, admin, weth, vault, deposit, alice, bob
):
    """Open, add, partial close and flip an inverse position at awkward prices; every realised PnL,
    cost basis and fee equals the reference model exactly, and the full-close PnL is the exact
    size * (1/entry - 1/exit) rounded down."""
    inv = markets["inv20"]
    deposit(alice, weth, 10 * ONE)
    deposit(bob, weth, 100 * ONE)
    model = make_model(registry, oracle, markets, vault, [str(alice), str(bob)], [str(weth)], engine)
    sync_fees(model, fees)
    day = ape.chain.pending_timestamp // 86400
    steps = [
        (10_000 * ONE, 1_999_9999 * 10**14, True),
        (777 * ONE, 2_100_1234 * 10**14, True),
        (3_333 * ONE, 2_345_6789 * 10**14, False),
        (10_000 * ONE, 2_222_2222 * 10**14, False),  # flips alice short
        (2_556 * ONE, 1_987_6543 * 10**14, True),  # closes the 2,556 short fully
    ]
    for size, price, buy in steps:
        oracle.setPrice(ETH, price, sender=admin)
        model.prices[ETH] = price
        f = fill(inv, bob, alice, size, price, buy=buy)
        tx = apply(engine, operator, f)
        [(fee, rebate)] = model.apply_fills([f], day)
        [fa] = fills_applied(tx, engine)
        ev = fa.taker_leg
        assert ev.account == alice.address
        leg = model.leg(str(alice), inv, 0)
        assert (ev.sizeX18, ev.openValueX18) == (leg.size, leg.open_value)
        assert (fa.takerFeeX18, fa.makerRebateX18) == (fee, rebate)
        onchain = engine.positionOf(alice, inv, 0)
        assert (onchain.size, onchain.openValueX18) == (leg.size, leg.open_value)
        for who in (alice, bob):
            assert engine.unsettledX18(who, weth) == model.unsettled[(str(who), str(weth))]
            assert engine.equity(who, weth) == model.evaluate(str(who), str(weth)).equity
    assert engine.positionOf(alice, inv, 0).size == 0
    # the last step closed a short of 2,556 USD opened by the flip at 2,222.2222: the exact inverse PnL
    # is size * (1/entry - 1/exit) with size = -2,556; on chain it is within the two truncations.
    [ev] = [fa.taker_leg for fa in fills_applied(tx, engine)]
    assert ev.account == alice.address
    entry, exit_ = 2_222_2222 * 10**14, 1_987_6543 * 10**14
    exact = Fraction(-2_556 * ONE) * (Fraction(ONE, entry) - Fraction(ONE, exit_))
    assert exact - 2 < ev.realisedPnlX18 <= exact
    assert ev.realisedPnlX18 > 0  # a short gains when the price falls, in coin as in USD


def test_inverse_full_close_pnl_is_size_times_reciprocal_difference(
    engine, markets, operator, oracle, admin, weth, deposit, alice, bob, zero_fees
):
    inv = markets["inv20"]
    deposit(alice, weth, ONE)
    deposit(bob, weth, 100 * ONE)
    size, entry, exit_ = 12_345 * ONE, 1_999_9999 * 10**14, 2_500_0001 * 10**14
    oracle.setPrice(ETH, entry, sender=admin)
    apply(engine, operator, fill(inv, bob, alice, size, entry))
    oracle.setPrice(ETH, exit_, sender=admin)
    tx = apply(engine, operator, fill(inv, bob, alice, size, exit_, buy=False))
    [ev] = [fa.taker_leg for fa in fills_applied(tx, engine)]
    assert ev.account == alice.address
    exact = Fraction(size) * (Fraction(ONE, entry) - Fraction(ONE, exit_))
    # each side's cash rounds down: the long books floor(N/entry) - ceil(N/exit), the short
    # floor(N/exit) - ceil(N/entry); the (0..2 atom) difference goes to the fee pool
    reference = pm.mul_div(size, ONE, entry) - pm.mul_div(size, ONE, exit_, up=True)
    short_reference = pm.mul_div(size, ONE, exit_) - pm.mul_div(size, ONE, entry, up=True)
    assert ev.realisedPnlX18 == reference
    assert exact - 2 < ev.realisedPnlX18 <= exact
    assert exact - 2 < -short_reference and short_reference <= -exact
    assert engine.unsettledX18(alice, weth) == reference
    assert engine.unsettledX18(bob, weth) == short_reference
    assert engine.feePoolX18(weth) == -(reference + short_reference)


def test_model_predicts_the_margin_reverts(registry, engine, markets, oracle, vault, usdc, alice, bob):
    model = make_model(registry, oracle, markets, vault, [str(alice), str(bob)], [str(usdc)], engine)
    model.vault[(str(alice), str(usdc))] = 100 * ONE
    model.vault[(str(bob), str(usdc))] = 100_000 * ONE
    with pytest.raises(ModelRevert) as err:
        model.apply_fills([fill(markets["eth20"], bob, alice, 1_050 * ONE // 1000, 2_000 * ONE)], day=0)
    assert err.value.error == "PerpEngineInsufficientMargin"
    assert usd(1) == ONE


def test_size_dependent_initial_margin(
    engine, registry, admin, markets, operator, oracle, vault, usdc, deposit, alice, bob, zero_fees
):
    """imr grows with leg notional: 5% + 1e-6 per USD of notional (SECURITY 13)."""
    from offchain.perp.deploy import risk_params

    e = markets["eth20"]
    registry.setRiskParams(e, risk_params(20, 2 * ONE // 100, imr_slope=ONE // 10**6), sender=admin)
    deposit(alice, usdc, 10_000 * USDC)
    deposit(bob, usdc, 100_000 * USDC)
    # 10 ETH at 2,000 = 20,000 notional: rate 5% + 2% = 7% -> 1,400
    apply(engine, operator, fill(e, bob, alice, 10 * ONE, 2_000 * ONE))
    assert engine.initialMargin(alice, usdc) == 1_400 * ONE
    model = make_model(registry, oracle, markets, vault, [str(alice), str(bob)], [str(usdc)], engine)
    model.apply_fills([fill(e, bob, alice, 10 * ONE, 2_000 * ONE)], 0)
    assert model.evaluate(str(alice), str(usdc)).initial == 1_400 * ONE
    # 50 ETH = 100,000 notional: 5% + 10% = 15% -> 15,000 > 10,000 collateral (flat rate would need 5,000)
    with ape.reverts(engine.PerpEngineInsufficientMargin, requiredX18=15_000 * ONE):
        apply(engine, operator, fill(e, bob, alice, 40 * ONE, 2_000 * ONE))
