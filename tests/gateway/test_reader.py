"""Liquidation price estimate and the in-memory chain reader."""

from __future__ import annotations

from fractions import Fraction

from offchain.gateway.reader import AccountState, MemoryChainReader, PositionView, liquidation_price

ONE = 10**18
MMR = 2 * ONE // 100


def equity_at(p: PositionView, equity: int, price: int) -> Fraction:
    if p.inverse:
        return Fraction(equity) + Fraction(p.size_x18, 1) * (Fraction(ONE, p.index_price_x18) - Fraction(ONE, price))
    return Fraction(equity) + Fraction(p.size_x18 * (price - p.index_price_x18), ONE)


def maintenance_at(p: PositionView, price: int, other: int) -> Fraction:
    notional = Fraction(abs(p.size_x18), price) * ONE if p.inverse else Fraction(abs(p.size_x18) * price, ONE)
    return other + notional * Fraction(p.mmr_x18, ONE)


def test_linear_long_and_short_cross_maintenance_at_the_estimate():
    for size, equity, other in ((2 * ONE, 1_000 * ONE, 0), (-3 * ONE, 800 * ONE, 50 * ONE)):
        p = PositionView(1, 0, size, 0, 2_000 * ONE, MMR)
        mm = abs(size) * 2_000 * MMR // ONE + other
        liq = liquidation_price(p, equity, mm)
        assert liq is not None
        above, below = liq + liq // 10**6, liq - liq // 10**6
        healthy, unhealthy = (above, below) if size > 0 else (below, above)
        assert equity_at(p, equity, healthy) >= maintenance_at(p, healthy, other)
        assert equity_at(p, equity, unhealthy) < maintenance_at(p, unhealthy, other)


def test_inverse_positions_cross_maintenance_at_the_estimate():
    for size in (10_000 * ONE, -10_000 * ONE):  # USD contracts, equity in coin
        p = PositionView(2, 0, size, 0, 50_000 * ONE, MMR, inverse=True)
        equity = ONE // 10  # 0.1 coin
        mm = abs(size) * MMR // p.index_price_x18
        liq = liquidation_price(p, equity, mm)
        assert liq is not None
        above, below = liq + liq // 10**6, liq - liq // 10**6
        healthy, unhealthy = (above, below) if size > 0 else (below, above)
        assert equity_at(p, equity, healthy) >= maintenance_at(p, healthy, 0)
        assert equity_at(p, equity, unhealthy) < maintenance_at(p, unhealthy, 0)


def test_no_liquidation_price_for_an_overcollateralised_long():
    p = PositionView(1, 0, ONE, 0, 2_000 * ONE, MMR)
    assert liquidation_price(p, 5_000 * ONE, 40 * ONE) is None
    assert liquidation_price(PositionView(1, 0, 0, 0, 2_000 * ONE, MMR), ONE, 0) is None


def test_memory_reader_allowlist_blocklist_delegates():
    r = MemoryChainReader(allow_all=False)
    a, b = "0x" + "aa" * 20, "0x" + "bb" * 20
    assert not r.is_allowed(a)
    r.allow(a.upper().replace("0X", "0x"))
    assert r.is_allowed(a)
    r.block(a)
    assert not r.is_allowed(a)
    r.authorize(a, b, 99)
    assert r.delegate_expiry(a.upper().replace("0X", "0x"), b) == 99 and r.delegate_expiry(b, a) == 0
    r.set_state(AccountState(a, b, 1, 1, 0, 0, None, False))
    r.set_state(AccountState(a, b, 2, 2, 0, 0, None, False))  # same token: replaced
    assert [s.collateral_x18 for s in r.account_states(a)] == [2]
