"""R3: while a stock's market is closed, each price update moves at most the cap and the market is
reduce-only; while open, prices pass unchanged."""

import ape
import pytest
from helpers import isolated
from hypothesis import given
from hypothesis import strategies as st

from offchain import roles

P = 200 * 10**18


@pytest.fixture(scope="session")
def guard(project, admin, acl):
    return project.StockSessionGuard.deploy(acl, sender=admin)


@pytest.fixture
def capped(guard, admin, keeper, stock):
    guard.setClosedMoveCap(stock, 500, sender=admin)  # 5%
    return guard


def test_closed_session_clamps_at_the_cap_boundary(capped, stock):
    assert capped.isReduceOnly(stock)
    assert capped.boundPrice(stock, P, P * 105 // 100) == (P * 105 // 100, False)  # exactly 5%: accepted
    assert capped.boundPrice(stock, P, P * 105 // 100 + 1) == (P * 105 // 100, True)
    assert capped.boundPrice(stock, P, P * 95 // 100) == (P * 95 // 100, False)
    assert capped.boundPrice(stock, P, P * 95 // 100 - 1) == (P * 95 // 100, True)
    assert capped.boundPrice(stock, 0, 123) == (123, False)  # first price


def test_open_session_passes_prices(capped, keeper, stock):
    tx = capped.setSession(stock, True, sender=keeper)
    assert tx.events.filter(capped.SessionSet)[0].open
    assert not capped.isReduceOnly(stock)
    assert capped.boundPrice(stock, P, 3 * P) == (3 * P, False)
    capped.setSession(stock, False, sender=keeper)
    assert capped.boundPrice(stock, P, 3 * P) == (P * 105 // 100, True)


def test_roles_and_bounds(guard, admin, keeper, stock, stranger):
    with ape.reverts(guard.AccessControlUnauthorizedAccount, role=roles.KEEPER):
        guard.setSession(stock, True, sender=admin)
    with ape.reverts(guard.AccessControlUnauthorizedAccount, role=roles.ADMIN):
        guard.setClosedMoveCap(stock, 1, sender=keeper)
    with ape.reverts(guard.StockSessionGuardCapTooLarge, maxClosedMoveBps=10_001):
        guard.setClosedMoveCap(stock, 10_001, sender=admin)
    tx = guard.setClosedMoveCap(stock, 0, sender=admin)
    assert tx.events.filter(guard.ClosedMoveCapSet)[0].maxClosedMoveBps == 0
    assert guard.boundPrice(stock, P, P + 1) == (P, True)  # cap 0: frozen while closed


@given(last=st.integers(1, 10**30), proposed=st.integers(0, 10**31), cap=st.integers(0, 10_000))
def test_bound_matches_exact_reference(chain, guard, admin, stock, last, proposed, cap):
    from fractions import Fraction

    with isolated(chain):
        guard.setClosedMoveCap(stock, cap, sender=admin)
        price, clamped = guard.boundPrice(stock, last, proposed)
    lo, hi = Fraction(last * (10_000 - cap), 10_000), Fraction(last * (10_000 + cap), 10_000)
    assert lo <= price <= hi  # never outside the exact band (rounded inwards)
    assert clamped == (not lo <= proposed <= hi)
    if not clamped:
        assert (price, clamped) == (proposed, False)
