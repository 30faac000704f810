"""ADL ranking tiers and the victim's solvency (P11, P12): legs in profit rank first by profit x leverage;
when no opposite leg is in profit, by equity (AdlRanking's fallback tier), so a bankrupt leg can still be
closed; a step is cut to what its victim's equity can absorb at the bankruptcy price; a victim left with
no equity is never named again, and once the whole opposite side is insolvent only a recapitalised
insurance fund can take the rest.

Before the fallback tier, the nightly protocol machine found the bankrupt leg stuck when every opposite
leg was at a loss (every candidate scored 0 and ADL refused), see audit/README.md."""

from __future__ import annotations

import ape
import pytest
from liq_helpers import LINEAR, ONE, USDC, revert_name, set_price, trade

from offchain import roles
from offchain.liquidation import reference as ref
from offchain.liquidation.keeper import KeeperConfig, LiquidationKeeper
from offchain.liquidation.mirror import AccountMirror
from offchain.perp.math import mark_value_floor, value_up
from offchain.simulated import Simulated


@pytest.fixture
def shorts_at_a_loss(
    l_stack, l_funded, accounts, stranger, vault, usdc, operator, admin, compliance, compliance_officer, far_future
):
    """alice long 10 ETH at 2,000 on 1,100 USDC. Opposite her: erin short 1 at 2,000 (200 USDC), carol
    short 4 and dave short 5 at 1,750 (5,000 and 600 USDC); bob, her first counterparty, is flat. The
    insurance fund holds nothing."""
    alice, bob, carol = l_funded
    dave, erin = accounts[8], stranger
    for t in (dave, erin):
        compliance.setAllowed(t, 1, far_future, sender=compliance_officer)
        usdc.mint(t, 10_000 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
    for t, amount in ((alice, 1_100), (bob, 100_000), (carol, 5_000), (dave, 600), (erin, 200)):
        vault.deposit(usdc, amount * USDC, sender=t)
    e = l_stack.engine
    set_price(l_stack, admin, 2_000 * ONE)
    trade(e, operator, LINEAR, bob, alice, 10 * ONE, 2_000 * ONE)
    trade(e, operator, LINEAR, erin, bob, ONE, 2_000 * ONE)  # bob buys 1 back from erin
    set_price(l_stack, admin, 1_750 * ONE)
    trade(e, operator, LINEAR, carol, bob, 4 * ONE, 1_750 * ONE)
    trade(e, operator, LINEAR, dave, bob, 5 * ONE, 1_750 * ONE)
    assert e.positionOf(bob, LINEAR, 0).size == 0
    assert l_stack.fund.available(usdc) == 0
    return alice, carol, dave, erin


def _cands(e, *accts) -> list[tuple[str, int]]:
    return sorted([(str(a), 0) for a in accts if e.positionOf(a, LINEAR, 0).size != 0], key=lambda c: int(c[0], 16))


def _step(adl, alice, cands, victim, keeper):
    tx = adl.adl(alice, LINEAR, 0, cands, [a for a, _ in cands].index(str(victim)), sender=keeper)
    return next(iter(adl.AdlStep.from_receipt(tx)))


def test_profit_tier_first_then_equity_then_cut_to_the_victims_equity(
    l_stack, shorts_at_a_loss, usdc, keeper, admin, chain, vault
):
    alice, carol, dave, erin = shorts_at_a_loss
    e, liq, adl, fund = l_stack.engine, l_stack.liq, l_stack.adl, l_stack.fund
    set_price(l_stack, admin, 1_800 * ONE)
    assert e.equity(alice, usdc) == -900 * ONE
    t = liq.flag(alice, usdc, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    chain.mine()
    assert revert_name(liq, "forceClose", alice, LINEAR, 0, sender=keeper, also=[e]) == "PerpEngineInsufficientMargin"
    pb = ref.bankruptcy_price(10 * ONE, 1_800 * ONE, -900 * ONE)
    assert pb == 1_890 * ONE

    # Tier 1: erin is in profit (+200 on 1,800 notional, equity 400) and outranks carol's far larger equity.
    cands = _cands(e, carol, dave, erin)
    keys = {a: adl.adlScore(a, LINEAR, 0) for a, _ in cands}
    assert keys[str(erin)] == ref.adl_rank_key(200 * ONE, 1_800 * ONE, e.equity(erin, usdc))
    assert keys[str(erin)] == ref.PROFIT_TIER + 900 * ONE
    assert keys[str(carol)] == e.equity(carol, usdc) == 4_800 * ONE  # at a loss: key = equity
    assert keys[str(dave)] == e.equity(dave, usdc) == 350 * ONE
    wrong = [a for a, _ in cands].index(str(carol))
    assert revert_name(adl, "adl", alice, LINEAR, 0, cands, wrong, sender=keeper) == "AdlRankingNotTopRanked"
    ev = _step(adl, alice, cands, erin, keeper)
    assert (ev.priceX18, ev.deltaX18, ev.score) == (pb, -ONE, keys[str(erin)])
    assert e.equity(erin, usdc) == 310 * ONE  # lost 90 against the index: 400 - 90

    # Tier 2: nobody left opposite alice is in profit; the larger equity (carol) goes first, whole overlap.
    cands = _cands(e, carol, dave, erin)
    assert [a for a, _ in cands] == sorted([str(carol), str(dave)], key=lambda a: int(a, 16))
    keys = {a: adl.adlScore(a, LINEAR, 0) for a, _ in cands}
    assert max(keys.values()) < ref.PROFIT_TIER
    wrong = [a for a, _ in cands].index(str(dave))
    assert revert_name(adl, "adl", alice, LINEAR, 0, cands, wrong, sender=keeper) == "AdlRankingNotTopRanked"
    ev = _step(adl, alice, cands, carol, keeper)
    assert (ev.victim, ev.priceX18, ev.deltaX18, ev.score) == (carol, pb, -4 * ONE, 4_800 * ONE)
    assert e.positionOf(carol, LINEAR, 0).size == 0 and e.equity(carol, usdc) == 4_440 * ONE

    # dave's 350 cannot absorb 5 x 90: the step is cut to what leaves him VICTIM_RESERVE, and he stays solvent
    # though below maintenance (the engine only requires equity >= 0 of an ADL victim).
    dave_eq = e.equity(dave, usdc)
    loss = value_up(False, 5 * ONE, pb) - mark_value_floor(False, 5 * ONE, 1_800 * ONE)
    cut = ref.adl_absorbable(5 * ONE, loss, dave_eq)
    assert 0 < cut < 5 * ONE
    ev = _step(adl, alice, _cands(e, dave), dave, keeper)
    assert (ev.priceX18, ev.deltaX18) == (pb, -cut)
    assert 0 <= e.equity(dave, usdc) < ref.MIN_VICTIM_EQUITY
    assert e.isLiquidatable(dave, usdc)
    assert adl.adlScore(dave, LINEAR, 0) == 0  # never named again
    assert e.positionOf(alice, LINEAR, 0).size == 10 * ONE - ONE - 4 * ONE - cut
    assert e.equity(alice, usdc) < 0  # still bankrupt: the opposite side has no equity left

    # The whole opposite side is insolvent: ADL refuses (documented limitation) ...
    assert revert_name(adl, "adl", alice, LINEAR, 0, _cands(e, dave), 0, sender=keeper) == "AdlRankingBadRanking"
    # ... until governance recapitalises the insurance fund, which then takes the rest by a forced close.
    usdc.mint(admin, 10_000 * USDC, sender=admin)
    usdc.approve(vault, 2**256 - 1, sender=admin)
    vault.depositFor(fund, usdc, 10_000 * USDC, sender=admin)
    liq.forceClose(alice, LINEAR, 0, sender=keeper)
    assert e.positionOf(alice, LINEAR, 0).size == 0 and e.equity(alice, usdc) == 0
    e.pokeNegativeEquity(alice, usdc, sender=keeper)
    assert e.negativeEquityCount(usdc) == 0


def test_victim_must_stay_solvent_in_the_engine(l_stack, shorts_at_a_loss, usdc, admin, acl):
    """The engine's own check on a reduce-only counterparty of a liquidation trade (what ADL sends): a trade
    that would leave it below zero equity reverts with PerpEngineInsolvent, whatever the module computed."""
    alice, _, dave, _ = shorts_at_a_loss
    e = l_stack.engine
    set_price(l_stack, admin, 1_800 * ONE)
    acl.grantRole(roles.LIQUIDATOR, admin, sender=admin)
    # dave (equity 350) buys back 5 at 1,890: a 450 loss against the index
    with ape.reverts(e.PerpEngineInsolvent, account=dave.address):
        e.liquidationTrade(alice, dave, LINEAR, -5 * ONE, 1_890 * ONE, 0, 2, sender=admin)
    # the same trade within dave's equity passes and leaves him solvent, though below maintenance
    e.liquidationTrade(alice, dave, LINEAR, -35 * ONE // 10, 1_890 * ONE, 0, 2, sender=admin)
    assert 0 <= e.equity(dave, usdc) < e.maintenanceMargin(dave, usdc)


def test_keeper_runs_the_tiers_and_stops_when_the_opposite_side_is_insolvent(
    l_stack, shorts_at_a_loss, usdc, vault, keeper, admin, chain, caplog
):
    """The liquidation keeper picks the same victims as the contract (erin, carol, then dave cut to his
    equity) and, once no opposite account has equity left, sends no ADL step and says why."""
    alice, carol, dave, erin = shorts_at_a_loss
    e = l_stack.engine
    set_price(l_stack, admin, 1_800 * ONE)
    web3 = ape.networks.provider.web3  # refused force closes fail fast on eth_call (no ape trace), as in the demo
    k = LiquidationKeeper(
        engine=e,
        liq=Simulated(l_stack.liq, web3),
        adl=Simulated(l_stack.adl, web3),
        vault=vault,
        registry=l_stack.registry,
        oracle=l_stack.oracle,
        sender=keeper,
        config=KeeperConfig(),
        mirror=AccountMirror(),
    )
    k.sync(chain.blocks.head.number)
    assert {a.account for a in k.step(chain.pending_timestamp) if a.kind == "flag"} == {str(alice)}
    chain.pending_timestamp += 31
    chain.mine()
    start = chain.blocks.head.number + 1
    for _ in range(4):  # one ADL step per tick while alice is flagged, bankrupt and the fund is empty
        k.sync(chain.blocks.head.number)
        k.step(chain.blocks.head.timestamp + 1)
        chain.mine()
    victims = [ev.victim for ev in l_stack.adl.AdlStep.range(start, chain.blocks.head.number + 1)]
    assert victims == [erin.address, carol.address, dave.address]
    assert e.positionOf(alice, LINEAR, 0).size > 0 and e.equity(alice, usdc) < 0
    caplog.clear()
    k.sync(chain.blocks.head.number)
    assert not [a for a in k.step(chain.blocks.head.timestamp + 1) if a.kind == "adl" and a.account == str(alice)]
    assert "no opposite account has equity left" in caplog.text
