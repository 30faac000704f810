"""MarketRegistry: listing, parameter validation, status transitions, roles, dynamic maintenance rate."""

from __future__ import annotations

import ape
import pytest
from perp_helpers import BTC, ETH

from offchain import roles
from offchain.perp.deploy import risk_params, trading_params
from offchain.perp.math import ONE

PCT = ONE // 100


def test_list_market_stores_everything_and_emits(registry, admin, usdc):
    tx = registry.listMarket(
        ETH, usdc, 1, risk_params(25, 2 * PCT, ONE // 10, 4 * PCT, 7), trading_params(1, 2, 3, 4, 5), sender=admin
    )
    mid = registry.marketCount()
    [listed] = tx.events.filter(registry.MarketListed)
    assert (listed.marketId, listed.asset, listed.token, listed.kind) == (mid, ETH, usdc.address, 1)
    [risk] = tx.events.filter(registry.RiskParamsSet)
    assert (risk.imrX18, risk.mmrBaseX18, risk.volFactorX18, risk.mmrMaxX18, risk.imrSlopeX18) == (
        4 * PCT,
        2 * PCT,
        ONE // 10,
        4 * PCT,
        7,
    )
    [trading] = tx.events.filter(registry.TradingParamsSet)
    assert (
        trading.tickSizeX18,
        trading.lotSizeX18,
        trading.minNotionalX18,
        trading.openInterestCapX18,
        trading.maxPositionX18,
    ) == (1, 2, 3, 4, 5)
    m = registry.getMarket(mid)
    assert (m.asset, m.token, m.kind, m.status) == (ETH, usdc.address, 1, 1)


@pytest.mark.parametrize(
    "risk",
    [
        [ONE // 51, PCT, 0, PCT, 0],  # 51x
        [ONE + 1, PCT, 0, PCT, 0],  # imr > 100%
        [5 * PCT, 0, 0, PCT, 0],  # zero maintenance base
        [5 * PCT, 3 * PCT, 0, 2 * PCT, 0],  # base > max
        [5 * PCT, 2 * PCT, 0, 6 * PCT, 0],  # max > imr
    ],
)
def test_invalid_risk_params_revert(registry, admin, usdc, risk):
    with ape.reverts(registry.MarketRegistryInvalidRiskParams, imrX18=risk[0], mmrBaseX18=risk[1], mmrMaxX18=risk[3]):
        registry.listMarket(ETH, usdc, 0, risk, trading_params(1, 1), sender=admin)


def test_fifty_x_is_the_highest_leverage(registry, admin, usdc):
    registry.listMarket(ETH, usdc, 0, risk_params(50, PCT), trading_params(1, 1), sender=admin)
    assert registry.getMarket(registry.marketCount()).risk.imrX18 == 2 * PCT


@pytest.mark.parametrize("tick,lot", [(0, 1), (1, 0)])
def test_zero_tick_or_lot_reverts(registry, admin, usdc, tick, lot):
    with ape.reverts(registry.MarketRegistryInvalidTradingParams, tickSizeX18=tick, lotSizeX18=lot):
        registry.listMarket(ETH, usdc, 0, risk_params(20, 2 * PCT), trading_params(tick, lot), sender=admin)


def test_zero_asset_or_token_reverts(registry, admin, usdc):
    with ape.reverts(registry.MarketRegistryZeroValue):
        registry.listMarket(b"\x00" * 32, usdc, 0, risk_params(20, 2 * PCT), trading_params(1, 1), sender=admin)
    with ape.reverts(registry.MarketRegistryZeroValue):
        registry.listMarket(ETH, "0x" + "00" * 20, 0, risk_params(20, 2 * PCT), trading_params(1, 1), sender=admin)


def test_only_admin_configures(registry, markets, stranger, guardian, usdc):
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=stranger, role=roles.ADMIN):
        registry.listMarket(ETH, usdc, 0, risk_params(20, 2 * PCT), trading_params(1, 1), sender=stranger)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=guardian, role=roles.ADMIN):
        registry.setRiskParams(1, risk_params(10, 2 * PCT), sender=guardian)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=guardian, role=roles.ADMIN):
        registry.setTradingParams(1, trading_params(1, 1), sender=guardian)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=guardian, role=roles.ADMIN):
        registry.setStatus(1, 1, sender=guardian)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=stranger, role=roles.GUARDIAN):
        registry.pauseMarket(1, sender=stranger)


def test_status_transitions(registry, markets, admin, guardian):
    tx = registry.pauseMarket(1, sender=guardian)
    assert [(e.marketId, e.status) for e in tx.events.filter(registry.MarketStatusSet)] == [(1, 3)]
    registry.setStatus(1, 2, sender=admin)
    assert registry.getMarket(1).status == 2
    with ape.reverts(registry.MarketRegistryInvalidStatus, marketId=1, **{"from": 2, "to": 0}):
        registry.setStatus(1, 0, sender=admin)
    registry.setStatus(1, 4, sender=admin)
    with ape.reverts(registry.MarketRegistryInvalidStatus, marketId=1, **{"from": 4, "to": 1}):
        registry.setStatus(1, 1, sender=admin)
    with ape.reverts(registry.MarketRegistryUnknownMarket, marketId=42):
        registry.pauseMarket(42, sender=guardian)


def test_parameter_updates_emit(registry, markets, admin):
    tx = registry.setRiskParams(1, risk_params(10, 3 * PCT, ONE, 8 * PCT), sender=admin)
    [ev] = tx.events.filter(registry.RiskParamsSet)
    assert (ev.marketId, ev.imrX18, ev.mmrMaxX18) == (1, 10 * PCT, 8 * PCT)
    tx = registry.setTradingParams(1, trading_params(7, 8, 9, 10, 11), sender=admin)
    [ev] = tx.events.filter(registry.TradingParamsSet)
    assert (ev.marketId, ev.tickSizeX18, ev.maxPositionX18) == (1, 7, 11)


@pytest.mark.parametrize("sigma", [0, 10**16, 3 * 10**16 + 1, 10**17, 10**18])
def test_dynamic_maintenance_rate(registry, oracle, admin, usdc, sigma):
    # mmr = min(1% + 0.5 * sigma, 3%)
    registry.listMarket(BTC, usdc, 0, [5 * PCT, PCT, ONE // 2, 3 * PCT, 0], trading_params(1, 1), sender=admin)
    oracle.setVolatility(BTC, sigma, sender=admin)
    expected = min(PCT + -(-sigma // 2), 3 * PCT)
    assert registry.maintenanceRate(registry.marketCount()) == expected


def test_dynamic_maintenance_raises_the_engine_requirement(
    registry, engine, oracle, admin, markets, operator, vault, usdc, funded, zero_fees
):
    from perp_helpers import USDC, apply, fill

    alice, bob, _ = funded
    vault.deposit(usdc, 1_000 * USDC, sender=alice)
    vault.deposit(usdc, 10_000 * USDC, sender=bob)
    registry.setRiskParams(markets["eth20"], [5 * PCT, 2 * PCT, ONE // 10, 5 * PCT, 0], sender=admin)
    apply(engine, operator, fill(markets["eth20"], bob, alice, 5 * ONE, 2_000 * ONE))
    assert engine.maintenanceMargin(alice, usdc) == 200 * ONE  # 2% of 10,000
    oracle.setVolatility(ETH, 2 * 10**17, sender=admin)  # +2% -> 4%
    assert engine.maintenanceMargin(alice, usdc) == 400 * ONE
    oracle.setVolatility(ETH, 10**18, sender=admin)  # capped at 5%
    assert engine.maintenanceMargin(alice, usdc) == 500 * ONE
