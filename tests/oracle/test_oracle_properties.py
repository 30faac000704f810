"""Property tests: the on-chain index equals the Python reference for random honest/malicious reports.

P19: the price is the median of the non-isolated fresh sources, every isolated source is more than the
threshold from the raw median, fewer agreeing sources than the quorum pauses, the index age is bounded
by maxAge for a valid price, and no update moves the index by more than the jump cap.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from oracle_helpers import ETH, PARAMS, call_view, reverts

from offchain.oracle.reference import Breaker, StoredReport, compute_index, deviates

P = 100 * 10**18
ONE = 10**18

# A report is honest (within 2% of the market), an outlier (6%..60% away) or silent (None).
HONEST = st.integers(min_value=-200, max_value=200).map(lambda bps: ("honest", bps))
OUTLIER = st.tuples(st.sampled_from([-1, 1]), st.integers(min_value=600, max_value=6000)).map(
    lambda t: ("outlier", t[0] * t[1])
)
# hypothesis' one_of does not weight repeated branches, so pick the kind with a die: 4 in 6 honest.
REPORT = st.tuples(st.integers(min_value=0, max_value=5), HONEST, OUTLIER).map(
    lambda t: None if t[0] == 0 else t[2] if t[0] == 1 else t[1]
)
ROUND = st.lists(REPORT, min_size=5, max_size=5)
# Market moves: mostly within the 10% jump cap, sometimes well beyond it.
DRIFT = st.tuples(
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=-300, max_value=300),
    st.integers(min_value=-2500, max_value=2500),
).map(lambda t: t[2] if t[0] == 0 else t[1])


def _price(market: int, report: tuple[str, int]) -> int:
    return max(1, market + market * report[1] // 10_000)


def _assert_matches(oracle, driver, receipt, stored, now, previous):
    expected = compute_index(stored, now, PARAMS, previous)
    index = oracle.latestIndex(ETH)
    assert index.breaker == expected.breaker
    if expected.price_x18 is None:
        assert index.priceX18 == previous
        assert list(receipt.decode_logs(oracle.IndexUpdated)) == []
    else:
        assert (index.priceX18, index.updatedAt) == (expected.price_x18, expected.updated_at)
        [event] = list(receipt.decode_logs(oracle.IndexUpdated))
        assert (event.rawMedianX18, event.agreeingSources) == (expected.raw_median_x18, expected.agreeing)
    for source in expected.isolated:
        assert oracle.sourceReport(ETH, source).isolated
        assert deviates(stored[source].price_x18, expected.raw_median_x18, PARAMS.max_deviation_x18)
    for source in set(stored) - expected.isolated:
        if source in {s for s, r in stored.items() if now - r.timestamp <= PARAMS.max_age}:
            assert not oracle.sourceReport(ETH, source).isolated
    if previous:
        assert abs(index.priceX18 - previous) * ONE <= PARAMS.jump_cap_x18 * previous
    return expected


@given(reports=ROUND, market_bps=st.integers(min_value=-3000, max_value=3000))
def test_one_round_matches_reference(oracle, driver, chain, reports, market_bps):
    with chain.isolate():
        driver.submit([P] * 5)
        t0 = chain.blocks.head.timestamp
        stored = {s: StoredReport(P, t0) for s in driver.sources[:5]}
        market = P + P * market_bps // 10_000
        prices = {i: _price(market, r) for i, r in enumerate(reports) if r is not None}
        if not prices:
            prices = {0: market}
        receipt = driver.submit(prices, dt=1)
        now = chain.blocks.head.timestamp
        for i, price in prices.items():
            stored[driver.sources[i]] = StoredReport(price, now)
        _assert_matches(oracle, driver, receipt, stored, now, P)


def test_state_machine(oracle, driver, chain):
    class OracleMachine(RuleBasedStateMachine):
        """Random rounds, silences and time jumps against a model of stored reports."""

        @initialize()
        def start(self):
            self.snapshot = chain.snapshot()
            self.stored: dict[str, StoredReport] = {}
            self.previous = 0
            self.breaker = Breaker.NONE
            self.updated_at = 0
            self.market = P

        def teardown(self):
            chain.restore(self.snapshot)

        @rule(reports=ROUND, drift_bps=DRIFT, dt=st.sampled_from([1, 2, 5]))
        def round(self, reports, drift_bps, dt):
            self.market = max(ONE, self.market + self.market * drift_bps // 10_000)
            prices = {i: _price(self.market, r) for i, r in enumerate(reports) if r is not None}
            if not prices:
                return
            receipt = driver.submit(prices, dt=dt)
            now = chain.blocks.head.timestamp
            for i, price in prices.items():
                self.stored[driver.sources[i]] = StoredReport(price, now)
            expected = _assert_matches(oracle, driver, receipt, self.stored, now, self.previous)
            self.breaker = expected.breaker
            if expected.price_x18 is not None:
                self.previous, self.updated_at = expected.price_x18, expected.updated_at

        @rule(dt=st.sampled_from([1, 29, 59, 60, 61, 120]))
        def warp(self, dt):
            driver.warp(dt)

        @invariant()
        def health_and_staleness(self):
            if not hasattr(self, "snapshot"):
                return
            now = chain.blocks.head.timestamp
            fresh = self.previous != 0 and now - self.updated_at <= PARAMS.max_age
            assert oracle.isHealthy(ETH) == (fresh and self.breaker == Breaker.NONE)
            if fresh:
                assert oracle.getPrice(ETH) == (self.previous, self.updated_at)
            elif self.previous:
                with reverts(oracle.MedianOracleStalePrice, asset=ETH, age=now - self.updated_at):
                    call_view(oracle, "getPrice", ETH)

    # Each step is a signed 5-report transaction plus reads: a third of the profile's examples keeps the
    # ci run under a minute on a shared 2-core machine; HYPOTHESIS_PROFILE=nightly scales it up.
    budget = settings(settings.default, max_examples=max(4, settings.default.max_examples // 3))
    run_state_machine_as_test(OracleMachine, settings=budget)
