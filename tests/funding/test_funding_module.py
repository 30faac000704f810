"""FundingModule: formula to the wei against offchain/funding/reference.py, caps (P18), split vs single
accrual (P17), schedule and permissionless trigger, posting bands, TWAP manipulation bound (SECURITY 17)."""

from __future__ import annotations

import ape
import pytest
from funding_helpers import ETH, INVERSE, LINEAR
from helpers import isolated
from hypothesis import given
from hypothesis import strategies as st

from offchain.funding import reference as ref
from offchain.perp.math import ONE

H8 = ref.INTERVAL


def warp(chain, dt: int) -> None:
    chain.pending_timestamp += dt
    chain.mine()


def goto(chain, t: int) -> None:
    """Move the pending block's time to ``t`` (or leave it if the chain is already later)."""
    chain.pending_timestamp = max(t, chain.pending_timestamp)


def schedule(funding, mid: int, cfg) -> ref.FundingSchedule:
    s = funding.states(mid)
    return ref.FundingSchedule(
        alpha=cfg.alpha,
        beta=cfg.beta,
        max_rate=cfg.max_rate,
        max_change=cfg.max_change,
        anchor=s.anchor,
        last_price=s.lastPriceX18,
        last_post_at=s.lastPostAt,
        last_update_at=s.lastUpdateAt,
        cumulative=s.cumulativeX18,
        cumulative_at_update=s.cumulativeAtUpdateX18,
        last_rate=s.lastRateX18,
    )


def fidx(engine, mid: int) -> int:
    return engine.marketStates(mid).fundingIndexX18


def test_formula_examples_match_reference():
    # contract 1% rich, twap 0.5% rich: 0.7 * 1% + 0.3 * 0.5% = 0.85%
    assert ref.premium_rate(2_020 * ONE, 2_010 * ONE, 2_000 * ONE, 7 * ONE // 10, 3 * ONE // 10) == 85 * ONE // 10_000
    # truncation toward zero on both sides
    assert ref.premium_rate(2 * ONE, 2 * ONE, 3 * ONE, ONE, 0) == -(ONE // 3)
    assert ref.premium_rate(4 * ONE, 3 * ONE, 3 * ONE, ONE, 0) == ONE // 3


def test_config_activation_and_access(funding, admin, stranger, operator, f_perp, cfg):
    with ape.reverts(funding.AccessControlUnauthorizedAccount):
        funding.setConfig(LINEAR, cfg.as_tuple(), sender=stranger)
    bad = list(cfg.as_tuple())
    bad[0] = ONE + 1
    with ape.reverts(funding.FundingModuleInvalidConfig):
        funding.setConfig(LINEAR, bad, sender=admin)
    bad = list(cfg.as_tuple())
    bad[2] = 0
    with ape.reverts(funding.FundingModuleInvalidConfig):
        funding.setConfig(LINEAR, bad, sender=admin)
    with ape.reverts(f_perp.registry.MarketRegistryUnknownMarket):
        funding.setConfig(99, cfg.as_tuple(), sender=admin)
    with ape.reverts(funding.FundingModuleAlreadyActive):
        funding.activate(LINEAR, 2_000 * ONE, sender=admin)
    with ape.reverts(funding.FundingModuleNotConfigured):
        funding.postContractPrice(5, ONE, sender=operator)
    with ape.reverts(funding.FundingModuleInvalidDelay):
        funding.setPermissionlessDelay(H8 + 1, sender=admin)
    tx = funding.setPermissionlessDelay(600, sender=admin)
    assert tx.events == [funding.PermissionlessDelaySet(delay=600)]
    tx = funding.setConfig(LINEAR, cfg.as_tuple(), sender=admin)
    assert len(tx.events) == 1 and tx.events[0].marketId == LINEAR


def test_activate_needs_price_in_band(project, admin, acl, f_perp, cfg, f_oracle):
    m = project.FundingModule.deploy(acl, f_perp.engine, f_perp.registry, sender=admin)
    with ape.reverts(m.FundingModuleNotConfigured):
        m.activate(LINEAR, 2_000 * ONE, sender=admin)
    m.setConfig(LINEAR, cfg.as_tuple(), sender=admin)
    with ape.reverts(m.FundingModuleNotActive):
        m.updateFunding(LINEAR, sender=admin)
    with ape.reverts(m.FundingModulePriceOutOfBand):
        m.activate(LINEAR, 2_101 * ONE, sender=admin)
    tx = m.activate(LINEAR, 2_100 * ONE, sender=admin)  # exactly 5%: inside
    assert tx.events[0].event_name == "FundingActivated" and tx.events[0].priceX18 == 2_100 * ONE


def test_posting_bands_and_roles(funding, operator, keeper, stranger, chain):
    with ape.reverts(funding.FundingModuleUnauthorizedPoster):
        funding.postContractPrice(LINEAR, 2_000 * ONE, sender=stranger)
    # step: at most 1% from the previous post (boundary inside)
    with ape.reverts(funding.FundingModulePriceStep):
        funding.postContractPrice(LINEAR, 2_020 * ONE + 1, sender=operator)
    before = funding.cumulativeNow(LINEAR)
    tx = funding.postContractPrice(LINEAR, 2_020 * ONE, sender=operator)
    ev = tx.events[0]
    assert ev.event_name == "ContractPricePosted" and ev.priceX18 == 2_020 * ONE and ev.indexX18 == 2_000 * ONE
    assert ev.cumulativeX18 >= before
    for p in (2_040, 2_060, 2_080, 2_100):
        funding.postContractPrice(LINEAR, p * ONE, sender=keeper)
    # band: at most 5% from the index
    with ape.reverts(funding.FundingModulePriceOutOfBand):
        funding.postContractPrice(LINEAR, 2_100 * ONE + 1, sender=operator)


def test_schedule_keeper_first_then_permissionless(funding, keeper, stranger, chain, f_engine):
    due, open_at = funding.nextUpdate(LINEAR)
    assert open_at - due == funding.permissionlessDelay() == 3600
    chain.pending_timestamp = due - 1
    with ape.reverts(funding.FundingModuleNotDue):
        funding.updateFunding(LINEAR, sender=keeper)
    chain.pending_timestamp = due
    with ape.reverts(funding.FundingModuleKeeperOnly):
        funding.updateFunding(LINEAR, sender=stranger)
    tx = funding.updateFunding(LINEAR, sender=keeper)
    assert len([e for e in tx.events if e.event_name == "FundingRateApplied"]) == 1
    # a second call in the same interval accrues nothing
    idx = fidx(f_engine, LINEAR)
    with ape.reverts(funding.FundingModuleNotDue):
        funding.updateFunding(LINEAR, sender=keeper)
    assert fidx(f_engine, LINEAR) == idx
    # next interval: a stranger may trigger once the permissionless delay has passed
    due, open_at = funding.nextUpdate(LINEAR)
    chain.pending_timestamp = open_at - 1
    with ape.reverts(funding.FundingModuleKeeperOnly):
        funding.updateFunding(LINEAR, sender=stranger)
    chain.pending_timestamp = open_at
    funding.updateFunding(LINEAR, sender=stranger)
    assert funding.states(LINEAR).anchor == due  # anchored: no drift from the late trigger


@pytest.mark.parametrize("mid", [LINEAR, INVERSE])
def test_update_matches_reference_to_the_wei(funding, keeper, operator, chain, f_engine, f_oracle, admin, cfg, mid):
    model = schedule(funding, mid, cfg)
    t0 = model.anchor
    posts = [(600, 2_010), (3_000, 2_025), (20_000, 2_030)]
    for dt, p in posts:
        chain.pending_timestamp = t0 + dt
        tx = funding.postContractPrice(mid, p * ONE, sender=operator)
        model.post(p * ONE, tx.timestamp)
    f_oracle.setPrice(ETH, 1_990 * ONE, sender=admin)
    chain.pending_timestamp = t0 + H8 + 17
    idx0 = fidx(f_engine, mid)
    tx = funding.updateFunding(mid, sender=keeper)
    twap = model.twap(tx.timestamp)
    rates = model.update(tx.timestamp, 1_990 * ONE)
    evs = [e for e in tx.events if e.event_name == "FundingRateApplied"]
    assert [e.rateX18 for e in evs] == rates
    ev = evs[0]
    assert ev.twapX18 == twap
    assert ev.contractX18 == 2_030 * ONE and ev.indexX18 == 1_990 * ONE
    assert ev.rawRateX18 == ref.premium_rate(2_030 * ONE, ev.twapX18, 1_990 * ONE, cfg.alpha, cfg.beta)
    # change cap from 0: the first rate is capped at max_change
    assert rates == [ref.clamp_rate(ev.rawRateX18, 0, cfg.max_rate, cfg.max_change)]
    assert fidx(f_engine, mid) - idx0 == ref.funding_per_unit(mid == INVERSE, rates[0], 1_990 * ONE)


def test_caps_ramp_by_max_change_then_hold_at_max(funding, keeper, operator, chain, f_engine, cfg):
    # contract and twap 5% rich: raw 5% >> caps
    for p in (2_020, 2_040, 2_060, 2_080, 2_100):
        funding.postContractPrice(LINEAR, p * ONE, sender=operator)
    rates = []
    for _ in range(5):
        goto(chain, funding.nextUpdate(LINEAR)[0])
        tx = funding.updateFunding(LINEAR, sender=keeper)
        rates += [e.rateX18 for e in tx.events if e.event_name == "FundingRateApplied"]
    assert rates == [cfg.max_change, 2 * cfg.max_change, 3 * cfg.max_change, cfg.max_rate, cfg.max_rate]
    # and the premium flips: it comes down by at most max_change per interval
    for p in (2_080, 2_060, 2_040, 2_020, 2_000, 1_981, 1_962, 1_943, 1_924, 1_905):
        funding.postContractPrice(LINEAR, p * ONE, sender=operator)
    goto(chain, funding.nextUpdate(LINEAR)[0] + H8)  # two intervals in one call
    tx = funding.updateFunding(LINEAR, sender=keeper)
    down = [e.rateX18 for e in tx.events if e.event_name == "FundingRateApplied"]
    assert down == [cfg.max_rate - cfg.max_change, cfg.max_rate - 2 * cfg.max_change]


@pytest.mark.parametrize("mid", [LINEAR, INVERSE])
def test_p17_single_late_call_equals_split_calls(funding, keeper, operator, chain, f_engine, mid):
    funding.postContractPrice(mid, 2_012 * ONE, sender=operator)
    t0 = funding.states(mid).anchor
    idx0 = fidx(f_engine, mid)
    with isolated(chain):
        chain.pending_timestamp = t0 + H8
        funding.updateFunding(mid, sender=keeper)
        chain.pending_timestamp = t0 + 2 * H8
        funding.updateFunding(mid, sender=keeper)
        split = fidx(f_engine, mid) - idx0
        split_state = funding.states(mid)
    chain.pending_timestamp = t0 + 2 * H8
    tx = funding.updateFunding(mid, sender=keeper)
    assert len([e for e in tx.events if e.event_name == "FundingRateApplied"]) == 2
    single = fidx(f_engine, mid) - idx0
    assert single == split != 0
    assert funding.states(mid).lastRateX18 == split_state.lastRateX18
    assert funding.states(mid).anchor == split_state.anchor


def test_same_block_post_has_no_effect_on_update(project, funding, keeper, operator, chain, admin, acl):
    from offchain import roles

    attacker = project.MockFundingManipulator.deploy(sender=admin)
    acl.grantRole(roles.OPERATOR, attacker, sender=admin)
    acl.grantRole(roles.KEEPER, attacker, sender=admin)
    funding.postContractPrice(LINEAR, 2_004 * ONE, sender=operator)
    chain.pending_timestamp = funding.nextUpdate(LINEAR)[0]
    with isolated(chain):
        honest = funding.updateFunding(LINEAR, sender=keeper)
        honest_ev = next(e for e in honest.events if e.event_name == "FundingRateApplied")
    tx = attacker.postAndUpdate(funding, LINEAR, 2_024 * ONE, sender=admin)
    ev = next(iter(funding.FundingRateApplied.from_receipt(tx)))
    assert (ev.rateX18, ev.contractX18, ev.twapX18) == (honest_ev.rateX18, honest_ev.contractX18, honest_ev.twapX18)
    assert ev.contractX18 == 2_004 * ONE


def test_one_post_moves_twap_at_most_band_times_dwell(funding, keeper, operator, chain, cfg):
    """A single post at the band edge, `dwell` seconds before the update, moves the TWAP by at most
    maxDeviation * index * dwell / window (and the step cap bounds the post itself)."""
    t0 = funding.states(LINEAR).anchor
    dwell = 60
    base = 2_000 * ONE
    with isolated(chain):
        chain.pending_timestamp = t0 + H8
        clean = funding.previewRate(LINEAR)
    chain.pending_timestamp = t0 + H8 - dwell
    funding.postContractPrice(LINEAR, 2_020 * ONE, sender=operator)  # +1%: the step cap
    chain.pending_timestamp = t0 + H8
    chain.mine()
    moved = funding.previewRate(LINEAR)
    window = H8
    assert clean.twapX18 == base
    assert 0 < moved.twapX18 - base <= 20 * ONE * dwell // window + 1
    assert moved.twapX18 - base <= base * cfg.max_deviation // ONE * dwell // window + 1


def test_zero_sum_over_many_accounts(funding, keeper, operator, chain, f_engine, f_funded, usdc):
    alice, bob, carol = f_funded
    lot = ONE // 1000
    fills = [
        (LINEAR, str(bob), str(alice), True, 1_237 * lot, 2_000 * ONE, 0, 0),
        (LINEAR, str(carol), str(alice), True, 311 * lot, 2_001 * ONE, 0, 0),
        (LINEAR, str(bob), str(carol), False, 777 * lot, 2_002 * ONE, 0, 0),
    ]
    f_engine.applyFills(fills, sender=operator)
    for p in (2_013, 2_007):
        funding.postContractPrice(LINEAR, p * ONE + 12_345, sender=operator)
    paid = 0
    for _ in range(3):
        goto(chain, funding.nextUpdate(LINEAR)[0])
        funding.updateFunding(LINEAR, sender=keeper)
        for t in f_funded:
            tx = f_engine.settleFunding(t, LINEAR, sender=t)
            paid += sum(e.amountX18 for e in f_engine.FundingSettled.from_receipt(tx))
    st_ = f_engine.marketStates(LINEAR)
    # everything settled: sum paid in minus paid out is exactly the pool, and it is >= 0 and tiny
    assert paid == st_.fundingPoolX18
    assert 0 <= paid <= 3 * 3  # <= one atom per account per settlement
    assert st_.fundingPoolX18 * ONE - st_.fundingWeightX36 >= 0


@given(
    posts=st.lists(st.tuples(st.integers(1, 4 * 3600), st.integers(-100, 100)), min_size=0, max_size=5),
    index_bp=st.integers(-300, 300),
    late=st.sampled_from([0, 1, 3599, 3600, H8 - 1, H8, H8 + 1, 2 * H8 + 5]),
)
def test_property_rate_matches_reference(funding, keeper, operator, chain, f_oracle, admin, cfg, posts, index_bp, late):
    with isolated(chain):
        model = schedule(funding, LINEAR, cfg)
        now = model.anchor
        price = model.last_price
        for dt, step_bp in posts:
            now = max(now + dt, chain.pending_timestamp)
            price = price * (10_000 + step_bp) // 10_000
            price = max(min(price, 2_100 * ONE), 1_900 * ONE)
            chain.pending_timestamp = now
            tx = funding.postContractPrice(LINEAR, price, sender=operator)
            model.post(price, tx.timestamp)
            now = tx.timestamp
        index = 2_000 * ONE * (10_000 + index_bp) // 10_000
        f_oracle.setPrice(ETH, index, sender=admin)
        chain.pending_timestamp = max(model.anchor + H8 + late, chain.pending_timestamp)
        tx = funding.updateFunding(LINEAR, sender=keeper)
        rates = model.update(tx.timestamp, index)
        got = [e.rateX18 for e in tx.events if e.event_name == "FundingRateApplied"]
        assert got == rates
        for r in got:
            assert abs(r) <= cfg.max_rate  # P18
        prev = 0
        for r in got:
            assert abs(r - prev) <= cfg.max_change
            prev = r
