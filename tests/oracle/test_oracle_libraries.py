"""OracleMedianLib and OracleVolatilityLib against the Python reference (differential fuzzing)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle_helpers import call_view, reverts

from offchain.oracle import reference as ref

PRICE = st.integers(min_value=1, max_value=2**128 - 1)
NEAR = st.integers(min_value=10**18, max_value=10**21)


@pytest.fixture(scope="module")
def math(project, admin):
    return project.MockOracleMath.deploy(sender=admin)


@given(values=st.lists(PRICE, min_size=1, max_size=32))
def test_sort_and_median(math, values):
    ordered = list(math.sort(values))
    assert ordered == sorted(values)
    assert math.medianOfSorted(ordered) == ref.median_of_sorted(ordered)


def test_median_of_nothing_reverts(math):
    with reverts(math.OracleMedianLibEmpty):
        call_view(math, "medianOfSorted", [])


@given(
    reference=NEAR,
    offset_bps=st.integers(min_value=-1000, max_value=1000),
    jitter=st.integers(min_value=-2, max_value=2),
    deviation_bps=st.integers(min_value=1, max_value=5000),
)
def test_deviates_at_and_around_the_threshold(math, reference, offset_bps, jitter, deviation_bps):
    price = max(1, reference + reference * offset_bps // 10_000 + jitter)
    deviation = deviation_bps * 10**14
    assert math.deviates(price, reference, deviation) == ref.deviates(price, reference, deviation)


@given(previous=NEAR, target=NEAR, cap_bps=st.integers(min_value=1, max_value=9999))
def test_clamp_move(math, previous, target, cap_bps):
    cap = cap_bps * 10**14
    result, clamped = math.clampMove(previous, target, cap)
    assert (result, clamped) == ref.clamp_move(previous, target, cap)
    assert abs(result - previous) * 10**18 <= cap * previous  # never more than the cap


def test_volatility_window_wraps_and_caps_returns(math, admin):
    model = ref.VolatilityModel()
    t = 1_000_000
    prices = [10**18 * (100 + (i * 37) % 11 - 5) for i in range(30)] + [10**18, 500 * 10**18, 10**18 + 1]
    returns = []
    for i, price in enumerate(prices):
        t += 3600 if i % 5 else 7200
        receipt = math.sample(price, t, 3600, sender=admin)
        [event] = list(receipt.decode_logs(math.Sampled))
        assert (event.sampled, event.returnX18) == model.try_sample(price, t, 3600)
        returns.append(event.returnX18)
        assert math.volatility() == model.volatility_x18()
    assert len(model.squares_x18) == ref.VOLATILITY_WINDOW  # 32 returns recorded, 24 kept
    assert returns[-2] == ref.MAX_RETURN_X18  # 1 -> 500 is capped at 100x
    assert returns[-1] == -998 * 10**15  # 500 -> 1+1e-18: 0.998 - 2e-21, magnitude rounded up
    receipt = math.sample(10**18, t + 10, 3600, sender=admin)  # too early: no sample
    [event] = list(receipt.decode_logs(math.Sampled))
    assert not event.sampled
