"""LiquidationModule: flag, 30 s grace, forced close at index x (1 -/+ gamma), tiered reward and its
cap, partial close with a size cap, bad debt covered by the insurance fund, ADL ranking and
withdrawal gating (SECURITY 18-22, P8-P12)."""

from __future__ import annotations

import ape
import pytest
from liq_helpers import LINEAR, ONE, USDC, revert_name, set_price, trade

from offchain import roles
from offchain.liquidation import reference as ref
from offchain.liquidation.deploy import DEFAULT_GAMMA_TIERS, DEFAULT_REWARD_TIERS

LOT = ONE // 1000
X6 = 10**12  # USDC units -> X18


def usd(x: float) -> int:
    return round(x * 10**6) * X6


@pytest.fixture
def opened(l_stack, l_funded, vault, usdc, operator, admin):
    """alice long 10 ETH at 2,000 with 1,100 USDC; carol short 5 ETH at 2,000 with 600 USDC; bob the
    other side with 100k; the insurance fund holds 50k."""
    alice, bob, carol = l_funded
    vault.deposit(usdc, 1_100 * USDC, sender=alice)
    vault.deposit(usdc, 100_000 * USDC, sender=bob)
    vault.deposit(usdc, 600 * USDC, sender=carol)
    usdc.mint(admin, 50_000 * USDC, sender=admin)
    usdc.approve(vault, 2**256 - 1, sender=admin)
    vault.depositFor(l_stack.fund, usdc, 50_000 * USDC, sender=admin)
    e = l_stack.engine
    trade(e, operator, LINEAR, bob, alice, 10 * ONE, 2_000 * ONE)
    trade(e, operator, LINEAR, bob, carol, 5 * ONE, 2_000 * ONE, buy=False)
    return alice, bob, carol


def test_healthy_account_cannot_be_flagged(l_stack, opened, usdc, stranger):
    alice, _, _ = opened
    with ape.reverts(l_stack.liq.LiquidationAccountHealthy):
        l_stack.liq.flag(alice, usdc, sender=stranger)
    set_price(l_stack, stranger, 1_950 * ONE)  # equity 600 >= maintenance 390
    with ape.reverts(l_stack.liq.LiquidationAccountHealthy):
        l_stack.liq.flag(alice, usdc, sender=stranger)
    with ape.reverts(l_stack.liq.LiquidationNotFlagged):
        l_stack.liq.forceClose(alice, LINEAR, 0, sender=stranger)


def test_flag_emits_equity_and_requirement(l_stack, opened, usdc, stranger, admin):
    alice, _, _ = opened
    set_price(l_stack, admin, 1_920 * ONE)
    tx = l_stack.liq.flag(alice, usdc, sender=stranger)
    assert tx.events == [
        l_stack.liq.AccountFlagged(
            account=alice, token=usdc, equityX18=usd(300), maintenanceX18=usd(384), at=tx.timestamp
        )
    ]
    assert l_stack.liq.flaggedAt(alice, usdc) == tx.timestamp
    with ape.reverts(l_stack.liq.LiquidationAlreadyFlagged):
        l_stack.liq.flag(alice, usdc, sender=stranger)


@pytest.mark.parametrize("dt", [29, 30, 31])
def test_grace_boundary(l_stack, opened, usdc, keeper, admin, chain, dt):
    alice, _, _ = opened
    set_price(l_stack, admin, 1_920 * ONE)
    t = l_stack.liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + dt
    if dt < 30:
        with ape.reverts(l_stack.liq.LiquidationGraceActive):
            l_stack.liq.forceClose(alice, LINEAR, 0, sender=keeper)
        assert l_stack.engine.positionOf(alice, LINEAR, 0).size == 10 * ONE
    else:
        tx = l_stack.liq.forceClose(alice, LINEAR, 0, sender=keeper)
        assert tx.timestamp == t + dt
        assert l_stack.engine.positionOf(alice, LINEAR, 0).size == 0


def test_grace_period_lets_the_book_close_near_index(l_stack, opened, usdc, keeper, admin, operator, chain):
    """During the grace the operator closes the whole position through normal settlement."""
    alice, bob, _ = opened
    set_price(l_stack, admin, 1_920 * ONE)
    l_stack.liq.flag(alice, usdc, sender=keeper)
    trade(l_stack.engine, operator, LINEAR, bob, alice, 10 * ONE, 1_919 * ONE, buy=False)
    assert l_stack.engine.positionOf(alice, LINEAR, 0).size == 0
    tx = l_stack.liq.clearFlag(alice, usdc, sender=keeper)
    assert tx.events == [l_stack.liq.FlagCleared(account=alice, token=usdc)]


def test_timer_resets_on_recovery(l_stack, opened, usdc, keeper, admin, chain):
    alice, _, _ = opened
    set_price(l_stack, admin, 1_920 * ONE)
    t0 = l_stack.liq.flag(alice, usdc, sender=keeper).timestamp
    with ape.reverts(l_stack.liq.LiquidationStillUnhealthy):
        l_stack.liq.clearFlag(alice, usdc, sender=keeper)
    set_price(l_stack, admin, 1_950 * ONE)
    chain.pending_timestamp = t0 + 40
    # recovered: a forced close after the grace still refuses
    with ape.reverts(l_stack.liq.LiquidationAccountHealthy):
        l_stack.liq.forceClose(alice, LINEAR, 0, sender=keeper)
    l_stack.liq.clearFlag(alice, usdc, sender=keeper)
    assert l_stack.liq.flaggedAt(alice, usdc) == 0
    set_price(l_stack, admin, 1_920 * ONE)
    t1 = l_stack.liq.flag(alice, usdc, sender=keeper).timestamp
    assert t1 > t0 + 30
    chain.pending_timestamp = t1 + 29
    with ape.reverts(l_stack.liq.LiquidationGraceActive):
        l_stack.liq.forceClose(alice, LINEAR, 0, sender=keeper)


@pytest.mark.parametrize("depth", [0, 1_000_000 * ONE, 10_000_000 * ONE, 10_000_000 * ONE - 1])
def test_forced_close_long_exact_price_reward_and_fund(l_stack, opened, usdc, keeper, admin, chain, operator, depth):
    alice, _, _ = opened
    liq, e = l_stack.liq, l_stack.engine
    liq.postDepth(LINEAR, depth, sender=operator)
    gamma = ref.gamma_for(list(DEFAULT_GAMMA_TIERS), depth)
    assert liq.gamma(LINEAR) == gamma
    index = 1_920 * ONE + 12_345  # a non-round index exercises the rounding
    set_price(l_stack, admin, index)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    keeper_before = e.equity(keeper, usdc)
    tx = liq.forceClose(alice, LINEAR, 0, sender=keeper)
    price = ref.close_price(True, index, gamma)
    assert price == index * (ONE - gamma) // ONE
    ev = next(iter(liq.ForcedClose.from_receipt(tx)))
    assert (ev.priceX18, ev.indexX18, ev.gammaX18, ev.deltaX18) == (price, index, gamma, -10 * ONE)
    # the fund bought the whole leg at the forced-close price
    fp = e.positionOf(l_stack.fund, LINEAR, 0)
    assert fp.size == 10 * ONE and fp.openValueX18 == 10 * price
    eq_after_close = 1_100 * ONE + 10 * (price - 2_000 * ONE)
    reward = min(ref.tiered_reward(list(DEFAULT_REWARD_TIERS), 10 * index), max(eq_after_close, 0))
    assert ev.rewardX18 == reward > 0
    assert e.equity(keeper, usdc) - keeper_before == reward
    assert e.equity(alice, usdc) == eq_after_close - reward
    assert liq.flaggedAt(alice, usdc) == 0  # flat and not liquidatable: flag cleared
    assert [x.event_name for x in tx.events][-1] == "FlagCleared"


def test_forced_close_short_exact_price(l_stack, opened, usdc, keeper, admin, chain):
    _, _, carol = opened
    liq, e = l_stack.liq, l_stack.engine
    index = 2_100 * ONE + 7
    set_price(l_stack, admin, index)
    t = liq.flag(carol, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    tx = liq.forceClose(carol, LINEAR, 0, sender=keeper)
    ev = next(iter(liq.ForcedClose.from_receipt(tx)))
    gamma = DEFAULT_GAMMA_TIERS[0][1]
    expected = -(-index * (ONE + gamma) // ONE)  # ceil
    assert ev.priceX18 == expected == ref.close_price(False, index, gamma)
    assert ev.deltaX18 == 5 * ONE
    assert e.positionOf(l_stack.fund, LINEAR, 0).size == -5 * ONE


def test_reward_capped_by_what_is_left(l_stack, opened, usdc, keeper, admin, chain):
    alice, _, _ = opened
    liq, e = l_stack.liq, l_stack.engine
    # equity after close at 1,900 x 0.99 = 1,881: 1,100 - 1,190 < 0 -> no reward; try 1,912: 1,892.88
    index = 1_912 * ONE
    set_price(l_stack, admin, index)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    tx = liq.forceClose(alice, LINEAR, 0, sender=keeper)
    left = 1_100 * ONE + 10 * (ref.close_price(True, index, ONE // 100) - 2_000 * ONE)
    uncapped = ref.tiered_reward(list(DEFAULT_REWARD_TIERS), 10 * index)
    assert 0 < left < uncapped
    ev = next(iter(liq.ForcedClose.from_receipt(tx)))
    assert ev.rewardX18 == left
    assert e.equity(alice, usdc) == 0


def test_reward_tiers_are_marginal_and_decreasing(l_stack):
    liq = l_stack.liq
    for n in (0, 1, 99_999 * ONE, 100_000 * ONE, 100_001 * ONE, 999_999 * ONE, 10**6 * ONE, 5 * 10**6 * ONE):
        assert liq.rewardFor(n) == ref.tiered_reward(list(DEFAULT_REWARD_TIERS), n)
    assert liq.rewardFor(100_000 * ONE) == 500 * ONE
    assert liq.rewardFor(200_000 * ONE) == 750 * ONE  # the second 100k earns 0.25%
    # a smaller rate on larger notional
    assert liq.rewardFor(2 * 10**6 * ONE) * 10**6 < liq.rewardFor(10**6 * ONE) * 2 * 10**6


def test_partial_close_with_size_cap_improves_health(l_stack, opened, usdc, keeper, admin, chain):
    alice, _, _ = opened
    liq, e = l_stack.liq, l_stack.engine
    liq.setMaxCloseSize(LINEAR, 4 * ONE, sender=admin)
    set_price(l_stack, admin, 1_920 * ONE)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    health = e.equity(alice, usdc) - e.maintenanceMargin(alice, usdc)
    sizes = []
    while e.positionOf(alice, LINEAR, 0).size != 0 and liq.flaggedAt(alice, usdc) != 0:
        liq.forceClose(alice, LINEAR, 0, sender=keeper)
        sizes.append(e.positionOf(alice, LINEAR, 0).size)
        new_health = e.equity(alice, usdc) - e.maintenanceMargin(alice, usdc)
        assert new_health > health  # P8: healthier or flat
        health = new_health
    assert sizes[:2] == [6 * ONE, 2 * ONE]


def test_dust_deposit_cannot_block_liquidation(l_stack, opened, usdc, vault, keeper, admin, chain):
    alice, _, _ = opened
    liq = l_stack.liq
    set_price(l_stack, admin, 1_920 * ONE)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    vault.deposit(usdc, 1, sender=alice)  # one micro-USDC
    chain.pending_timestamp = t + 30
    liq.forceClose(alice, LINEAR, 0, sender=keeper)
    assert l_stack.engine.positionOf(alice, LINEAR, 0).size == 0


def test_self_liquidation_is_not_profitable(l_stack, opened, usdc, admin, chain):
    alice, _, carol = opened
    liq, e = l_stack.liq, l_stack.engine
    set_price(l_stack, admin, 1_920 * ONE)
    before = e.equity(alice, usdc) + e.equity(carol, usdc)
    t = liq.flag(alice, usdc, sender=carol).timestamp
    chain.pending_timestamp = t + 30
    liq.forceClose(alice, LINEAR, 0, sender=carol)  # carol: alice's second account
    assert e.equity(alice, usdc) + e.equity(carol, usdc) < before


def test_bad_debt_covered_by_fund_exactly(l_stack, opened, usdc, keeper, admin, chain, vault, bob):
    alice, _, _ = opened
    liq, e, fund = l_stack.liq, l_stack.engine, l_stack.fund
    set_price(l_stack, admin, 1_800 * ONE)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    fund_ledger = e.unsettledX18(fund, usdc)
    tx = liq.forceClose(alice, LINEAR, 0, sender=keeper)
    deficit = -(1_100 * ONE + 10 * (1_782 * ONE - 2_000 * ONE))
    assert deficit == 1_080 * ONE
    assert next(x for x in tx.events if x.event_name == "BadDebtCovered").amountX18 == deficit
    assert e.unsettledX18(fund, usdc) == fund_ledger - deficit  # P10: decreases by exactly the debt
    assert e.equity(alice, usdc) == 0
    assert fund.available(usdc) >= 0 and e.equity(fund, usdc) > 0
    assert e.negativeEquityCount(usdc) == 0
    vault.withdraw(usdc, USDC, sender=bob)  # not gated


def test_fund_cannot_be_withdrawn_while_it_holds_positions(l_stack, opened, usdc, keeper, admin, chain):
    """P10: governance cannot pull capital that backs positions the fund took over in a forced close (a later
    move against them could take the fund below zero); once the fund is flat it can withdraw again."""
    alice, _, _ = opened
    liq, e, fund = l_stack.liq, l_stack.engine, l_stack.fund
    fund.withdraw(usdc, USDC, admin, sender=admin)  # flat: allowed
    set_price(l_stack, admin, 1_800 * ONE)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    liq.forceClose(alice, LINEAR, 0, sender=keeper)
    assert list(e.openMarketsOf(fund, usdc)) == [LINEAR]
    assert revert_name(fund, "withdraw", usdc, USDC, admin, sender=admin) == "InsuranceFundPositionsOpen"
    with ape.reverts(fund.InsuranceFundPositionsOpen, token=usdc.address, openMarkets=1):
        fund.withdraw(usdc, USDC, admin, sender=admin)


def test_fund_short_of_cover_reverts_then_adl(l_stack, opened, usdc, keeper, admin, chain, vault, operator):
    """With a fund that cannot pay, forced close reverts; ADL closes at the bankruptcy price against
    the top-ranked opposite leg; withdrawals are gated until the bad debt is resolved."""
    alice, bob, carol = opened
    liq, e, fund = l_stack.liq, l_stack.engine, l_stack.fund
    fund.withdraw(usdc, 49_900 * USDC, admin, sender=admin)  # leave 100 in the fund
    set_price(l_stack, admin, 1_800 * ONE)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    chain.mine()  # the eth_call checks below run at the latest block's time
    # the fund cannot even take the position
    assert revert_name(liq, "forceClose", alice, LINEAR, 0, sender=keeper, also=[e]) == "PerpEngineInsufficientMargin"
    # gate: alice is under water at the index
    e.pokeNegativeEquity(alice, usdc, sender=keeper)
    assert e.negativeEquityCount(usdc) == 1
    assert revert_name(vault, "withdraw", usdc, USDC, sender=bob) == "VaultWithdrawalNotAllowed"
    # the shorts: bob (net -5) and carol (-5); candidates sorted by (address, leg)
    cands = sorted([(str(bob), 0), (str(carol), 0)], key=lambda c: (int(c[0], 16), c[1]))
    scores = {a: l_stack.adl.adlScore(a, LINEAR, 0) for a, _ in cands}
    top = max(scores, key=scores.get)
    low = min(scores, key=scores.get)
    assert scores[top] > scores[low] > 0
    top_i = [a for a, _ in cands].index(top)
    low_i = 1 - top_i
    adl = l_stack.adl
    assert revert_name(adl, "adl", alice, LINEAR, 0, cands, low_i, sender=keeper) == "AdlRankingNotTopRanked"
    # incomplete: leaves a short out
    assert revert_name(adl, "adl", alice, LINEAR, 0, [cands[top_i]], 0, sender=keeper) == "AdlRankingBadRanking"
    # unsorted
    unsorted = list(reversed(cands))
    assert revert_name(adl, "adl", alice, LINEAR, 0, unsorted, low_i, sender=keeper) == "AdlRankingBadRanking"
    eq = e.equity(alice, usdc)
    pb = ref.bankruptcy_price(10 * ONE, 1_800 * ONE, eq)
    top_size = -e.positionOf(top, LINEAR, 0).size
    tx = l_stack.adl.adl(alice, LINEAR, 0, cands, top_i, sender=keeper)
    ev = next(iter(l_stack.adl.AdlStep.from_receipt(tx)))
    assert (ev.victim, ev.priceX18, ev.deltaX18) == (top, pb, -min(10 * ONE, top_size))
    while e.positionOf(alice, LINEAR, 0).size != 0:
        rest = [(a, lg) for a, lg in cands if e.positionOf(a, LINEAR, 0).size < 0]
        sc = [l_stack.adl.adlScore(a, LINEAR, 0) for a, _ in rest]
        tx = l_stack.adl.adl(alice, LINEAR, 0, rest, sc.index(max(sc)), sender=keeper)
        assert next(iter(l_stack.adl.AdlStep.from_receipt(tx))).priceX18 == pb  # invariant over partial steps
    assert e.equity(alice, usdc) >= 0  # P11: nobody left negative
    assert e.negativeEquityCount(usdc) == 0  # gate lifted
    vault.withdraw(usdc, USDC, sender=bob)


def test_adl_not_allowed_while_fund_can_pay(l_stack, opened, usdc, keeper, admin, chain, bob, carol):
    alice, _, _ = opened
    liq = l_stack.liq
    set_price(l_stack, admin, 1_800 * ONE)
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    chain.mine()
    cands = sorted([(str(bob), 0), (str(carol), 0)], key=lambda c: int(c[0], 16))
    assert revert_name(l_stack.adl, "adl", alice, LINEAR, 0, cands, 0, sender=keeper) == "AdlModuleNotNeeded"


def test_privileged_entry_points_and_governance(l_stack, opened, usdc, stranger, admin, acl):
    alice, bob, _ = opened
    e, liq = l_stack.engine, l_stack.liq
    with ape.reverts(e.AccessControlUnauthorizedAccount):
        e.liquidationTrade(alice, bob, LINEAR, -ONE, 1_000 * ONE, 0, 0, sender=stranger)
    with ape.reverts(e.AccessControlUnauthorizedAccount):
        e.liquidationTransfer(alice, stranger, usdc, ONE, sender=stranger)
    with ape.reverts(liq.AccessControlUnauthorizedAccount):
        liq.setRewardTiers([[0, ONE // 100]], sender=stranger)
    with ape.reverts(liq.LiquidationInvalidSchedule):
        liq.setRewardTiers([[0, ONE // 100], [10, ONE // 50]], sender=admin)  # rate rising
    with ape.reverts(liq.LiquidationInvalidSchedule):
        liq.setGammaTiers(LINEAR, [[0, ONE // 100], [10, ONE // 50]], sender=admin)  # gamma rising with depth
    with ape.reverts(liq.LiquidationInvalidSchedule):
        liq.setGammaTiers(LINEAR, [[0, ONE // 5]], sender=admin)  # above MAX_GAMMA
    with ape.reverts(liq.LiquidationUnauthorizedPoster):
        liq.postDepth(LINEAR, ONE, sender=stranger)
    tx = liq.setMaxCloseSize(LINEAR, ONE, sender=admin)
    assert tx.events == [liq.MaxCloseSizeSet(marketId=LINEAR, sizeX18=ONE)]
    # a liquidation trade may not grow the liquidated leg
    acl.grantRole(roles.LIQUIDATOR, admin, sender=admin)
    with ape.reverts(e.PerpEngineReduceOnly):
        e.liquidationTrade(alice, bob, LINEAR, ONE, 1_000 * ONE, 0, 0, sender=admin)
