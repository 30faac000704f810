"""Auto-deleveraging in an inverse (coin-margined) market: the fund is exhausted first, the keeper's
ranking is verified on chain (profit x leverage with inverse PnL), every step closes at the inverse
bankruptcy price, nobody is left with negative equity and flat accounts are untouched (P11, P12)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from liq_helpers import INVERSE, ONE, revert_name, set_price, trade

from offchain.liquidation import reference as ref
from offchain.perp.math import mark_value_floor, value_up

X = ONE  # 1 USD contract


@pytest.fixture
def inv(l_stack, l_funded, accounts, vault, weth, operator, admin, compliance, compliance_officer, far_future):
    """alice long 3,000 USD at 2,000 on 0.1 ETH; bob (100 ETH) short 2,000 and carol (0.2 ETH) short
    1,000 USD; dave flat with 5 ETH; the insurance fund holds no WETH."""
    alice, bob, carol = l_funded
    dave = accounts[8]
    compliance.setAllowed(dave, 1, far_future, sender=compliance_officer)
    weth.mint(dave, 5 * ONE, sender=dave)
    weth.approve(vault, 2**256 - 1, sender=dave)
    vault.deposit(weth, 5 * ONE, sender=dave)
    vault.deposit(weth, ONE // 10, sender=alice)
    vault.deposit(weth, 100 * ONE, sender=bob)
    vault.deposit(weth, ONE // 5, sender=carol)
    e = l_stack.engine
    trade(e, operator, INVERSE, bob, alice, 2_000 * X, 2_000 * ONE)
    trade(e, operator, INVERSE, carol, alice, 1_000 * X, 2_000 * ONE)
    return alice, bob, carol, dave


def _cands(*accts) -> list[tuple[str, int]]:
    return sorted([(str(a), 0) for a in accts], key=lambda c: int(c[0], 16))


def _flag_after_grace(l_stack, who, weth, keeper, chain) -> None:
    t = l_stack.liq.flag(who, weth, sender=keeper).timestamp
    chain.pending_timestamp = t + 30
    chain.mine()  # eth_call checks (revert_name) run at the latest block's time


def test_inverse_bankruptcy_price_math(l_stack, project, admin):
    lm = project.MockLiquidationMath.deploy(sender=admin)
    for size, index, eq in (
        (3_000 * X, 1_800 * ONE, -(ONE // 15)),
        (-(3_000 * X), 2_300 * ONE + 7, -(ONE // 7)),
        (5 * X, 1_000 * ONE, -(ONE // 100)),  # loss beyond the long's whole coin value: no price
        (-(7 * X), 999 * ONE, ONE // 3),
    ):
        p = lm.inverseBankruptcyPrice(size, index, eq)
        assert p == ref.inverse_bankruptcy_price(size, index, eq)
        if p:  # closing the whole leg at p leaves the exact equity at or above zero
            assert Fraction(eq) + Fraction(size * ONE) * (Fraction(1, index) - Fraction(1, p)) >= 0
    assert ref.inverse_bankruptcy_price(5 * X, 1_000 * ONE, -(ONE // 100)) == 0


def test_inverse_adl_ranked_at_bankruptcy_price_and_nobody_negative(
    l_stack, inv, weth, keeper, admin, chain, vault, stranger
):
    alice, bob, carol, dave = inv
    e, liq, adl, fund = l_stack.engine, l_stack.liq, l_stack.adl, l_stack.fund
    set_price(l_stack, admin, 1_800 * ONE)
    _flag_after_grace(l_stack, alice, weth, keeper, chain)
    assert fund.available(weth) == 0
    # the fund can neither take the leg nor cover the deficit
    assert revert_name(liq, "forceClose", alice, INVERSE, 0, sender=keeper, also=[e]) == "PerpEngineInsufficientMargin"
    eq = e.equity(alice, weth)
    # 0.1 + 3,000 (1/2,000 - 1/1,800) = -1/15 ETH (the engine floors the mark by one wei at most)
    assert -(ONE // 15) - 2 <= eq < -(ONE // 15) + 2
    pb = ref.inverse_bankruptcy_price(3_000 * X, 1_800 * ONE, eq)
    assert abs(pb - 1_875 * ONE) < 10**6  # 1/P = 1/1,800 - (1/15) / 3,000
    e.pokeNegativeEquity(alice, weth, sender=keeper)
    # bad debt gates withdrawals
    assert revert_name(vault, "withdraw", weth, ONE, sender=bob) == "VaultWithdrawalNotAllowed"

    cands = _cands(bob, carol)
    scores = {str(a): adl.adlScore(a, INVERSE, 0) for a in (bob, carol)}
    # carol: profit 1,000 (1/1,800 - 1/2,000) on 0.2 ETH is far more leveraged than bob on 100 ETH
    assert scores[str(carol)] > scores[str(bob)] > 0
    names = [a for a, _ in cands]
    top_i, low_i = names.index(str(carol)), names.index(str(bob))
    assert revert_name(adl, "adl", alice, INVERSE, 0, cands, low_i, sender=keeper) == "AdlRankingNotTopRanked"
    # incomplete: bob left out
    assert revert_name(adl, "adl", alice, INVERSE, 0, [cands[top_i]], 0, sender=keeper) == "AdlRankingBadRanking"
    # a flat account may not be listed (or chosen)
    with_flat = _cands(bob, carol, stranger)
    flat_i = [a for a, _ in with_flat].index(str(stranger))
    assert revert_name(adl, "adl", alice, INVERSE, 0, with_flat, flat_i, sender=keeper) == "AdlRankingBadRanking"

    parties = (alice, bob, carol, fund)
    total_before = sum(e.equity(a, weth) for a in parties)
    dave_before = (e.equity(dave, weth), vault.balances(dave, weth), e.unsettledX18(dave, weth))
    tx = adl.adl(alice, INVERSE, 0, cands, top_i, sender=keeper)
    ev = next(iter(adl.AdlStep.from_receipt(tx)))
    assert (ev.victim, ev.priceX18, ev.deltaX18, ev.indexX18) == (str(carol), pb, -1_000 * X, 1_800 * ONE)
    assert e.positionOf(carol, INVERSE, 0).size == 0 and e.equity(carol, weth) > 0
    # second step: only bob is left; same bankruptcy price to the wei-exact reference of the new state
    eq2 = e.equity(alice, weth)
    pb2 = ref.inverse_bankruptcy_price(2_000 * X, 1_800 * ONE, eq2)
    assert abs(pb2 - pb) * 10**15 <= pb  # one wei of equity moves the price by ~P^2/size wei
    tx = adl.adl(alice, INVERSE, 0, _cands(bob), 0, sender=keeper)
    ev = next(iter(adl.AdlStep.from_receipt(tx)))
    assert (ev.victim, ev.priceX18, ev.deltaX18) == (str(bob), pb2, -2_000 * X)
    assert e.positionOf(alice, INVERSE, 0).size == 0
    assert 0 <= e.equity(alice, weth) <= 10  # P11: at zero, never below
    assert all(e.equity(a, weth) >= 0 for a in parties)
    total_after = sum(e.equity(a, weth) for a in parties)
    assert 0 <= total_before - total_after <= 10  # zero-sum up to the per-trade wei residuals
    assert (e.equity(dave, weth), vault.balances(dave, weth), e.unsettledX18(dave, weth)) == dave_before
    assert liq.flaggedAt(alice, weth) == 0  # resolved: flag cleared
    assert e.negativeEquityCount(weth) == 0  # gate lifted
    vault.withdraw(weth, ONE, sender=bob)


def test_inverse_adl_only_after_the_fund_is_exhausted(l_stack, inv, weth, keeper, admin, chain, vault):
    alice, bob, carol, _ = inv
    e, liq, adl, fund = l_stack.engine, l_stack.liq, l_stack.adl, l_stack.fund
    weth.mint(admin, 10 * ONE, sender=admin)
    weth.approve(vault, 2**256 - 1, sender=admin)
    vault.depositFor(fund, weth, 10 * ONE, sender=admin)
    set_price(l_stack, admin, 1_800 * ONE)
    _flag_after_grace(l_stack, alice, weth, keeper, chain)
    cands = _cands(bob, carol)
    best = max(range(2), key=lambda i: adl.adlScore(cands[i][0], INVERSE, 0))
    assert revert_name(adl, "adl", alice, INVERSE, 0, cands, best, sender=keeper) == "AdlModuleNotNeeded"
    ledger = e.unsettledX18(fund, weth)
    tx = liq.forceClose(alice, INVERSE, 0, sender=keeper)  # the fund takes the leg and pays the debt
    covered = next(iter(liq.BadDebtCovered.from_receipt(tx))).amountX18
    assert covered > 0 and e.equity(alice, weth) == 0
    assert e.unsettledX18(fund, weth) < ledger and e.equity(fund, weth) > 0
    assert e.positionOf(bob, INVERSE, 0).size == -2_000 * X  # no victim touched
    assert e.positionOf(carol, INVERSE, 0).size == -1_000 * X


def test_inverse_short_bankrupt_adl_with_close_cap(l_stack, l_funded, vault, weth, operator, admin, keeper, chain):
    """A bankrupt inverse short (price up) is closed against longs in capped steps at one price."""
    alice, bob, carol = l_funded
    e, liq, adl = l_stack.engine, l_stack.liq, l_stack.adl
    vault.deposit(weth, ONE // 10, sender=alice)
    vault.deposit(weth, 100 * ONE, sender=bob)
    vault.deposit(weth, ONE, sender=carol)
    trade(e, operator, INVERSE, bob, alice, 1_500 * X, 2_000 * ONE, buy=False)
    trade(e, operator, INVERSE, carol, alice, 1_500 * X, 2_000 * ONE, buy=False)
    set_price(l_stack, admin, 2_250 * ONE)
    liq.setMaxCloseSize(INVERSE, 1_000 * X, sender=admin)
    _flag_after_grace(l_stack, alice, weth, keeper, chain)
    prices = []
    while e.positionOf(alice, INVERSE, 0).size != 0:
        legs = [a for a in (bob, carol) if e.positionOf(a, INVERSE, 0).size > 0]
        cands = _cands(*legs)
        sc = [adl.adlScore(a, INVERSE, 0) for a, _ in cands]
        eq, size = e.equity(alice, weth), e.positionOf(alice, INVERSE, 0).size
        victim = cands[sc.index(max(sc))][0]
        victim_size = e.positionOf(victim, INVERSE, 0).size
        tx = adl.adl(alice, INVERSE, 0, cands, sc.index(max(sc)), sender=keeper)
        ev = next(iter(adl.AdlStep.from_receipt(tx)))
        assert ev.priceX18 == ref.inverse_bankruptcy_price(size, 2_250 * ONE, eq) < 2_250 * ONE
        assert ev.deltaX18 == min(1_000 * X, -size, victim_size)
        prices.append(ev.priceX18)
    assert len(prices) >= 3 and (max(prices) - min(prices)) * 10**15 <= min(prices)
    assert e.equity(alice, weth) >= 0 and e.negativeEquityCount(weth) == 0


def test_inverse_adl_when_no_short_is_in_profit(l_stack, l_funded, accounts, vault, weth, operator, admin, keeper,
                                                chain, compliance, compliance_officer, far_future):  # fmt: skip
    """Inverse fallback tier: alice's long from 2,000 is bankrupt at 1,800; both shorts entered at 1,700, so
    neither is in profit. The larger equity (bob) is named first; carol's step is cut to her equity."""
    alice, bob, carol = l_funded
    dave = accounts[8]
    compliance.setAllowed(dave, 1, far_future, sender=compliance_officer)
    weth.mint(dave, 10 * ONE, sender=dave)
    weth.approve(vault, 2**256 - 1, sender=dave)
    for who, amount in ((alice, ONE // 10), (dave, 10 * ONE), (bob, 5 * ONE), (carol, ONE // 20)):
        vault.deposit(weth, amount, sender=who)
    e, adl = l_stack.engine, l_stack.adl
    set_price(l_stack, admin, 2_000 * ONE)
    trade(e, operator, INVERSE, dave, alice, 3_000 * X, 2_000 * ONE)
    set_price(l_stack, admin, 1_700 * ONE)
    trade(e, operator, INVERSE, bob, dave, 1_500 * X, 1_700 * ONE)  # dave buys back from the two shorts
    trade(e, operator, INVERSE, carol, dave, 1_500 * X, 1_700 * ONE)
    assert e.positionOf(dave, INVERSE, 0).size == 0
    set_price(l_stack, admin, 1_800 * ONE)
    assert l_stack.fund.available(weth) == 0
    _flag_after_grace(l_stack, alice, weth, keeper, chain)
    eq = e.equity(alice, weth)
    assert eq < 0
    pb = ref.inverse_bankruptcy_price(3_000 * X, 1_800 * ONE, eq)
    keys = {str(a): adl.adlScore(a, INVERSE, 0) for a in (bob, carol)}
    assert keys[str(bob)] == e.equity(bob, weth) > keys[str(carol)] == e.equity(carol, weth) > 0
    assert max(keys.values()) < ref.PROFIT_TIER  # nobody opposite is in profit
    cands = _cands(bob, carol)
    low = [a for a, _ in cands].index(str(carol))
    assert revert_name(adl, "adl", alice, INVERSE, 0, cands, low, sender=keeper) == "AdlRankingNotTopRanked"
    ev = next(iter(adl.AdlStep.from_receipt(adl.adl(alice, INVERSE, 0, cands, 1 - low, sender=keeper))))
    assert (ev.victim, ev.priceX18, ev.deltaX18) == (str(bob), pb, -1_500 * X)  # bob absorbs the whole overlap
    # carol (0.05 ETH, 0.049 of it lost to the move) cannot absorb 1,500 at the bankruptcy price: the step is cut
    carol_eq = e.equity(carol, weth)
    pb = ref.inverse_bankruptcy_price(1_500 * X, 1_800 * ONE, e.equity(alice, weth))  # the new state's, to the wei
    loss = value_up(True, 1_500 * X, pb) - mark_value_floor(True, 1_500 * X, 1_800 * ONE)
    cut = ref.adl_absorbable(1_500 * X, loss, carol_eq)
    assert 0 < cut < 1_500 * X
    ev = next(iter(adl.AdlStep.from_receipt(adl.adl(alice, INVERSE, 0, _cands(carol), 0, sender=keeper))))
    assert (ev.priceX18, ev.deltaX18) == (pb, -cut)
    assert 0 <= e.equity(carol, weth) < ref.MIN_VICTIM_EQUITY
    assert adl.adlScore(carol, INVERSE, 0) == 0
