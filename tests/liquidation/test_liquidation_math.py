"""FundingMath and LiquidationMath against their Python twins, to the wei (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.funding import reference as fref
from offchain.liquidation import reference as lref
from offchain.liquidation.deploy import DEFAULT_REWARD_TIERS

ONE = 10**18
prices = st.integers(10**12, 10**24)
rates = st.integers(0, ONE)


@pytest.fixture(scope="module")
def lm(project, admin):
    return project.MockLiquidationMath.deploy(sender=admin)


@given(c=prices, t=prices, i=prices, a=rates, b=rates)
def test_premium_rate(lm, c, t, i, a, b):
    assert lm.premiumRate(c, t, i, a, b) == fref.premium_rate(c, t, i, a, b)


@given(
    raw=st.integers(-(10**18), 10**18),
    prev=st.integers(-(10**16), 10**16),
    cap=st.integers(10**16, 10**17),
    step=st.integers(1, 10**17),
)
def test_clamp_rate_bounds(lm, raw, prev, cap, step):
    r = lm.clampRate(raw, prev, cap, step)
    assert r == fref.clamp_rate(raw, prev, cap, step)
    assert abs(r) <= cap and abs(r - prev) <= step  # P18 (|prev| <= cap here)


@given(is_long=st.booleans(), index=prices, gamma=st.integers(0, 10**17))
def test_close_price_exact_and_against_the_account(lm, is_long, index, gamma):
    p = lm.closePrice(is_long, index, gamma)
    assert p == lref.close_price(is_long, index, gamma)
    exact = Fraction(index * (ONE - gamma if is_long else ONE + gamma), ONE)
    assert (p <= exact < p + 1) if is_long else (p - 1 < exact <= p)


@given(notional=st.integers(0, 10**26))
def test_tiered_reward(lm, notional):
    assert lm.tieredReward([list(t) for t in DEFAULT_REWARD_TIERS], notional) == lref.tiered_reward(
        list(DEFAULT_REWARD_TIERS), notional
    )


@given(size=st.integers(1, 10**24), long_=st.booleans(), index=prices, equity=st.integers(-(10**24), 10**24))
def test_bankruptcy_price_leaves_account_at_or_above_zero(lm, size, long_, index, equity):
    s = size if long_ else -size
    p = lm.bankruptcyPrice(s, index, equity)
    assert p == lref.bankruptcy_price(s, index, equity)
    if p > 0:
        # equity after closing the whole leg at p: equity + s (p - index) / 1e18 >= 0 (exact)
        assert Fraction(equity) + Fraction(s * (p - index), ONE) >= 0


@given(pnl=st.integers(-(10**24), 10**24), notional=st.integers(0, 10**26), equity=st.integers(-(10**24), 10**24))
def test_adl_score(lm, pnl, notional, equity):
    assert lm.adlScore(pnl, notional, equity) == lref.adl_score(pnl, notional, equity)


@given(size=st.integers(1, 10**24), long_=st.booleans(), index=prices, equity=st.integers(-(10**24), 10**24))
def test_inverse_bankruptcy_price_leaves_account_at_or_above_zero(lm, size, long_, index, equity):
    s = size if long_ else -size
    p = lm.inverseBankruptcyPrice(s, index, equity)
    assert p == lref.inverse_bankruptcy_price(s, index, equity)
    if p > 0:
        # equity after closing the whole leg at p (inverse value -size/price): equity + s (1/index - 1/p) >= 0
        assert Fraction(equity) + Fraction(s * ONE) * (Fraction(1, index) - Fraction(1, p)) >= 0
    else:
        # no finite price: |size| + sign(size) equity index <= 0 (a long's loss beyond its coin value, or a
        # short's equity beyond it), up to the rounding of the product; or a short's price below one wei,
        # rounded down to 0 (the nightly found size 1 wei, index 1e12 wei, equity -0.999999999999 coin)
        denominator = size + (1 if long_ else -1) * Fraction(equity * index, ONE)
        assert denominator <= 1 or (not long_ and Fraction(size * index) / denominator < 1)


def test_inverse_short_price_below_one_wei_is_no_price(lm):
    """The nightly's example: a 1-wei inverse short whose deficit needs a price below one wei has none (0)."""
    assert lm.inverseBankruptcyPrice(-1, 10**12, -999_999_999_999_000_001) == 0
    assert lref.inverse_bankruptcy_price(-1, 10**12, -999_999_999_999_000_001) == 0
