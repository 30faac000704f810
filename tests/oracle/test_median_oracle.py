"""MedianOracle: median, isolation boundary, circuit breaker, staleness, guardian, TWAP and volatility."""

from __future__ import annotations

import pytest
from oracle_helpers import BTC, ETH, PARAMS, SPEC, call_view, reverts

from offchain.oracle.reference import Breaker, StoredReport, VolatilityModel, compute_index

P = 100 * 10**18


def pct(x: str) -> int:
    """``pct("5.01")`` -> P * (1 + 5.01%) offset in wei, exact."""
    units, _, frac = x.partition(".")
    bps_100 = int(units) * 100 + int((frac + "00")[:2])  # hundredths of a percent
    return P * bps_100 // 10_000


def logs(receipt, oracle, name):
    return list(receipt.decode_logs(getattr(oracle, name)))


def test_first_update_sets_index_and_emits(driver, oracle, chain):
    receipt = driver.submit([P] * 5)
    ts = chain.blocks.head.timestamp
    reported = logs(receipt, oracle, "PriceReported")
    assert [(e.source, e.priceX18, e.timestamp) for e in reported] == [(s, P, ts) for s in driver.sources[:5]]
    assert all(e.asset == ETH for e in reported)
    [updated] = logs(receipt, oracle, "IndexUpdated")
    assert (updated.priceX18, updated.updatedAt, updated.rawMedianX18, updated.agreeingSources) == (P, ts, P, 5)
    [sampled] = logs(receipt, oracle, "VolatilitySampled")
    assert (sampled.returnX18, sampled.volatilityX18) == (0, 0)
    assert oracle.getPrice(ETH) == (P, ts)
    assert oracle.isHealthy(ETH)
    assert not oracle.isHealthy(BTC)  # listed, never priced


def test_median_odd_count(driver, oracle):
    prices = [P + 3, P - 7, P, P + 11, P - 2]
    driver.submit(prices)
    assert oracle.latestIndex(ETH).priceX18 == P  # sorted: -7, -2, 0, +3, +11


def test_median_even_count_floors_the_mean(driver, oracle):
    receipt = driver.submit({0: P, 1: P + 1, 2: P + 2, 3: P + 4})  # source 4 never reported
    assert oracle.latestIndex(ETH).priceX18 == P + 1  # floor((P+1 + P+2) / 2)
    assert logs(receipt, oracle, "IndexUpdated")[0].agreeingSources == 4


@pytest.mark.parametrize(
    ("offset", "isolated"),
    [("4.99", False), ("5.00", False), ("5.01", True)],
)
@pytest.mark.parametrize("direction", [1, -1])
def test_isolation_boundary(driver, oracle, offset, isolated, direction):
    """Four honest sources spread around P and one at P +- offset: exactly 5% is kept, 5.01% isolated."""
    if direction == 1:
        honest = [P - 2 * 10**18, P - 10**18, P, P + 10**18]  # raw median P with the outlier above
    else:
        honest = [P - 10**18, P, P + 10**18, P + 2 * 10**18]  # raw median P with the outlier below
    outlier = P + direction * pct(offset)
    receipt = driver.submit([*honest, outlier])
    [updated] = logs(receipt, oracle, "IndexUpdated")
    assert updated.rawMedianX18 == P
    expected = compute_index({str(i): StoredReport(p, 0) for i, p in enumerate([*honest, outlier])}, 0, PARAMS, 0)
    assert updated.priceX18 == expected.price_x18
    assert updated.agreeingSources == (4 if isolated else 5)
    # including the outlier the median is P; without it, the mean of the two middle honest prices
    assert updated.priceX18 == ((honest[1] + honest[2]) // 2 if isolated else P)
    assert oracle.sourceReport(ETH, driver.sources[4]).isolated == isolated
    events = logs(receipt, oracle, "SourceIsolated")
    if isolated:
        assert [(e.source, e.priceX18, e.rawMedianX18) for e in events] == [(driver.sources[4], outlier, P)]
    else:
        assert events == []


def test_one_source_twenty_percent_off_is_isolated_and_readmitted(driver, oracle):
    driver.submit([P] * 5)
    receipt = driver.submit([P, P, P * 12 // 10, P, P])
    assert oracle.latestIndex(ETH).priceX18 == P
    [isolated] = logs(receipt, oracle, "SourceIsolated")
    assert (isolated.source, isolated.priceX18, isolated.rawMedianX18) == (driver.sources[2], P * 12 // 10, P)
    assert logs(receipt, oracle, "IndexUpdated")[0].agreeingSources == 4
    assert oracle.isHealthy(ETH)
    # still isolated on the next round: no new event, flag stays
    receipt = driver.submit([P, P, P * 12 // 10, P, P])
    assert logs(receipt, oracle, "SourceIsolated") == []
    assert oracle.sourceReport(ETH, driver.sources[2]).isolated
    # back within the threshold: readmitted automatically
    receipt = driver.submit([P, P, P + 1, P, P])
    [readmitted] = logs(receipt, oracle, "SourceReadmitted")
    assert (readmitted.source, readmitted.priceX18) == (driver.sources[2], P + 1)
    assert not oracle.sourceReport(ETH, driver.sources[2]).isolated
    assert logs(receipt, oracle, "IndexUpdated")[0].agreeingSources == 5


def test_three_of_five_silent_pauses_the_market(driver, oracle, chain):
    driver.submit([P] * 5)
    t0 = chain.blocks.head.timestamp
    # sources 0 and 1 keep reporting; 2, 3, 4 fall silent
    receipt = driver.submit({0: P + 5, 1: P + 5}, dt=60)  # silent reports exactly max age old: still fresh
    assert chain.blocks.head.timestamp == t0 + 60
    assert logs(receipt, oracle, "IndexUpdated")[0].agreeingSources == 5
    assert oracle.isHealthy(ETH)
    receipt = driver.submit({0: P + 6, 1: P + 6}, dt=1)  # now 61 s old: stale
    [lost] = logs(receipt, oracle, "QuorumLost")
    assert (lost.agreeingSources, lost.quorum) == (2, 3)
    [tripped] = logs(receipt, oracle, "CircuitBreakerTripped")
    assert tripped.reason == Breaker.QUORUM_LOST
    assert logs(receipt, oracle, "IndexUpdated") == []
    assert not oracle.isHealthy(ETH)
    index = oracle.latestIndex(ETH)
    assert (index.priceX18, index.breaker, index.healthy) == (P, Breaker.QUORUM_LOST, False)
    with reverts(oracle.MedianOracleStalePrice, asset=ETH, age=61, maxAge=60):
        call_view(oracle, "getPrice", ETH)  # the index's oldest input is from t0
    # recovery: a third source reports again
    receipt = driver.submit({2: P + 6}, dt=1)
    assert len(logs(receipt, oracle, "CircuitBreakerReset")) == 1
    assert logs(receipt, oracle, "IndexUpdated")[0].agreeingSources == 3
    assert oracle.isHealthy(ETH)
    assert oracle.getPrice(ETH)[0] == P + 6


def test_quorum_lost_when_sources_disagree(driver, oracle):
    driver.submit([P] * 5)
    receipt = driver.submit([P, P, P * 110 // 100, P * 120 // 100, P * 120 // 100])
    [lost] = logs(receipt, oracle, "QuorumLost")
    assert lost.agreeingSources == 1  # raw median 110: only the 110 source within 5%
    assert len(logs(receipt, oracle, "SourceIsolated")) == 4
    assert oracle.latestIndex(ETH).priceX18 == P
    assert not oracle.isHealthy(ETH)


def test_jump_cap_clamps_pauses_and_walks_back_to_health(driver, oracle):
    driver.submit([P] * 5)
    target = P * 125 // 100
    receipt = driver.submit([target] * 5)
    [jump] = logs(receipt, oracle, "JumpCapped")
    assert (jump.previousX18, jump.medianX18, jump.cappedX18) == (P, target, P * 110 // 100)
    assert logs(receipt, oracle, "CircuitBreakerTripped")[0].reason == Breaker.JUMP_CAPPED
    assert oracle.latestIndex(ETH).priceX18 == P * 110 // 100
    assert not oracle.isHealthy(ETH)
    receipt = driver.submit([target] * 5)
    step2 = P * 110 // 100 + P * 110 // 100 // 10
    assert logs(receipt, oracle, "JumpCapped")[0].cappedX18 == step2
    assert logs(receipt, oracle, "CircuitBreakerTripped") == []  # same reason, no new trip
    assert not oracle.isHealthy(ETH)
    receipt = driver.submit([target] * 5)  # 125 is within 10% of 121
    assert logs(receipt, oracle, "JumpCapped") == []
    assert len(logs(receipt, oracle, "CircuitBreakerReset")) == 1
    assert oracle.getPrice(ETH)[0] == target
    assert oracle.isHealthy(ETH)


def test_move_of_exactly_the_cap_is_accepted_and_down_moves_are_capped(driver, oracle):
    driver.submit([P] * 5)
    receipt = driver.submit([P * 110 // 100] * 5)
    assert logs(receipt, oracle, "JumpCapped") == []
    assert oracle.isHealthy(ETH)
    start = P * 110 // 100
    receipt = driver.submit([P // 2] * 5)
    [jump] = logs(receipt, oracle, "JumpCapped")
    assert jump.cappedX18 == start - start // 10
    assert oracle.latestIndex(ETH).priceX18 == start - start // 10


def test_stale_price_boundary(driver, oracle, chain):
    driver.submit([P] * 5)
    ts = chain.blocks.head.timestamp
    driver.warp(60)
    assert oracle.getPrice(ETH) == (P, ts)
    assert oracle.isHealthy(ETH)
    driver.warp(1)
    with reverts(oracle.MedianOracleStalePrice, asset=ETH, age=61, maxAge=60):
        call_view(oracle, "getPrice", ETH)
    assert not oracle.isHealthy(ETH)
    assert oracle.latestIndex(ETH).priceX18 == P  # the non-reverting view still shows it


def test_updated_at_is_the_oldest_agreeing_input(driver, oracle, chain):
    driver.submit([P] * 5)
    t0 = chain.blocks.head.timestamp
    driver.submit({0: P, 1: P, 2: P}, dt=30)
    assert oracle.getPrice(ETH) == (P, t0)


def test_get_price_unknown_or_unpriced_asset(oracle):
    with reverts(oracle.MedianOracleUnknownAsset, asset=b"\x01" * 32):
        call_view(oracle, "getPrice", b"\x01" * 32)
    with reverts(oracle.MedianOracleNoPrice, asset=BTC):
        call_view(oracle, "getPrice", BTC)
    assert not oracle.isHealthy(b"\x01" * 32)


def test_guardian_pause_needs_admin_to_lift(driver, oracle, guardian, admin, stranger):
    driver.submit([P] * 5)
    with reverts(oracle.AccessControlUnauthorizedAccount):
        oracle.guardianPause(ETH, sender=stranger)
    receipt = oracle.guardianPause(ETH, sender=guardian)
    assert [(e.asset, e.by) for e in logs(receipt, oracle, "GuardianPaused")] == [(ETH, guardian.address)]
    assert not oracle.isHealthy(ETH)
    driver.submit([P] * 5)  # a healthy update does not lift a guardian pause
    assert not oracle.isHealthy(ETH)
    assert oracle.getPrice(ETH)[0] == P  # price still readable for reductions
    with reverts(oracle.AccessControlUnauthorizedAccount):
        oracle.guardianUnpause(ETH, sender=guardian)
    receipt = oracle.guardianUnpause(ETH, sender=admin)
    assert [(e.asset, e.by) for e in logs(receipt, oracle, "GuardianUnpaused")] == [(ETH, admin.address)]
    assert oracle.isHealthy(ETH)
    with reverts(oracle.MedianOracleUnknownAsset):
        oracle.guardianPause(b"\x02" * 32, sender=guardian)
    with reverts(oracle.MedianOracleUnknownAsset):
        oracle.guardianUnpause(b"\x02" * 32, sender=admin)


def test_multi_asset_bundle(driver, oracle, chain):
    ts = driver.next_time(1)
    reports = driver.reports(dict(enumerate([P] * 5)), ts, ETH) + driver.reports(dict(enumerate([2 * P] * 5)), ts, BTC)
    receipt = driver.submit_reports(reports)
    assert [e.asset for e in logs(receipt, oracle, "IndexUpdated")] == [ETH, BTC]
    assert oracle.getPrice(ETH) == (P, ts)
    assert oracle.getPrice(BTC) == (2 * P, ts)


def test_cumulative_price_integrates_the_index(driver, oracle, chain):
    assert oracle.cumulativePrice(ETH).cumulativeX18Seconds == 0
    driver.submit([P] * 5)
    t1 = chain.blocks.head.timestamp
    p2 = P * 104 // 100
    driver.submit([p2] * 5, dt=100)
    t2 = chain.blocks.head.timestamp
    driver.warp(50)
    cumulative, at = oracle.cumulativePrice(ETH)
    assert at >= t2 + 50
    assert cumulative == P * (t2 - t1) + p2 * (at - t2)
    # quorum loss keeps integrating the index in force
    driver.submit({0: P}, dt=100)
    t3 = chain.blocks.head.timestamp
    cumulative3, at3 = oracle.cumulativePrice(ETH)
    assert cumulative3 == P * (t2 - t1) + p2 * (at3 - t2)
    assert t3 <= at3


def test_volatility_matches_reference(driver, oracle, chain):
    model = VolatilityModel()
    path = [P, P * 102 // 100, P * 99 // 100, P * 105 // 100, P * 104 // 100, P * 97 // 100]
    gaps = [1, 3600, 3600, 7200, 100, 3600]  # the 100 s gap is too short: no sample
    for price, gap in zip(path, gaps, strict=True):
        receipt = driver.submit([price] * 5, dt=gap)
        sampled, ret = model.try_sample(price, chain.blocks.head.timestamp, SPEC.sample_interval)
        events = logs(receipt, oracle, "VolatilitySampled")
        if sampled:
            assert [(e.returnX18, e.volatilityX18) for e in events] == [(ret, model.volatility_x18())]
        else:
            assert events == []
        assert oracle.volatilityX18(ETH) == model.volatility_x18()
    assert oracle.volatilityX18(ETH) > 0
