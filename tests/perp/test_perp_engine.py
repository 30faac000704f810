"""PerpEngine behaviour: fills, hedge mode, guards, limits, withdrawal policy, settlement of PnL."""

from __future__ import annotations

import ape
import pytest
from helpers import isolated
from perp_helpers import BTC, ETH, INSURANCE, LOT, TREASURY, USDC, apply, fill, make_model, sync_fees

from offchain import roles
from offchain.perp.deploy import risk_params, trading_params
from offchain.perp.fill_log import fills_applied
from offchain.perp.math import ONE
from offchain.perp.model import FLAG_API, FLAG_REDUCE_ONLY, FLAG_SHORT_LEG


@pytest.fixture
def accounts3(vault, usdc, weth, funded):
    alice, bob, carol = funded
    for t in funded:
        vault.deposit(usdc, 10_000 * USDC, sender=t)
        vault.deposit(weth, 10 * ONE, sender=t)
    return alice, bob, carol


@pytest.fixture
def model(registry, oracle, markets, vault, fees, engine, usdc, weth, accounts3):
    m = make_model(registry, oracle, markets, vault, [str(a) for a in accounts3], [str(usdc), str(weth)], engine)
    sync_fees(m, fees)
    return m


def day():
    return ape.chain.pending_timestamp // 86400


def check_all(engine, model, accounts, tokens):
    for a in accounts:
        for t in tokens:
            assert engine.unsettledX18(a, t) == model.unsettled.get((str(a), str(t)), 0)
            assert engine.equity(a, t) == model.evaluate(str(a), str(t)).equity
            assert engine.initialMargin(a, t) == model.evaluate(str(a), str(t)).initial


# ---------------------------------------------------------------- access and validation


def test_only_settler_applies_fills(engine, markets, stranger, alice, bob):
    with ape.reverts(engine.AccessControlUnauthorizedAccount, account=stranger, role=roles.SETTLER):
        apply(engine, stranger, fill(markets["eth20"], bob, alice, ONE, 2_000 * ONE))


def test_only_funding_role_accrues(engine, markets, stranger):
    with ape.reverts(engine.AccessControlUnauthorizedAccount, account=stranger, role=roles.FUNDING):
        engine.accrueFunding(markets["eth20"], 10**14, sender=stranger)


@pytest.mark.parametrize(
    "size,price,same",
    [
        (0, 2_000 * ONE, False),
        (ONE + 1, 2_000 * ONE, False),
        (ONE, 2_000 * ONE + 1, False),
        (ONE, 0, False),
        (ONE, 2_000 * ONE, True),
    ],
)
def test_malformed_fill_reverts_naming_the_fill(engine, markets, operator, accounts3, size, price, same):
    alice, bob, _ = accounts3
    good = fill(markets["eth20"], bob, alice, ONE, 2_000 * ONE)
    bad = fill(markets["eth20"], alice if same else bob, alice, size, price)
    with ape.reverts(engine.PerpEngineInvalidFill, fillIndex=1):
        apply(engine, operator, good, bad)


def pack_settled(market, maker, taker, size, price, cap, buy=1, mflags=0, tflags=0) -> bytes:
    """One FillCodec settled fill record (87 bytes, big-endian)."""
    out = market.to_bytes(4, "big") + bytes.fromhex(str(maker)[2:]) + bytes.fromhex(str(taker)[2:])
    out += size.to_bytes(16, "big") + price.to_bytes(16, "big") + cap.to_bytes(8, "big")
    return out + bytes([buy, mflags, tflags])


def test_settled_fills_are_packed_records(engine, markets, operator, accounts3, stranger):
    """applySettledFills decodes 87-byte records (what FillsApplied logs equals what was packed), refuses
    partial records and isBuy bytes above 1 (FillCodecMalformed), applies the taker fee cap, settler only."""
    alice, bob, _ = accounts3
    mid = markets["eth20"]
    one = pack_settled(mid, bob, alice, 2 * ONE, 2_000 * ONE, 10**16, buy=0)
    assert len(one) == 87
    with isolated(ape.chain):
        [f] = fills_applied(engine.applySettledFills(one, sender=operator), engine)
        assert (f.marketId, f.maker, f.taker, f.takerIsBuy) == (mid, str(bob), str(alice), False)
        assert (f.sizeX18, f.priceX18) == (2 * ONE, 2_000 * ONE) and f.takerFeeX18 > 0
    with ape.reverts(engine.FillCodecMalformed, length=86, index=0):
        engine.applySettledFills(one[:-1], sender=operator)
    two = one + one[:84] + bytes([2, 0, 0])
    with ape.reverts(engine.FillCodecMalformed, length=174, index=1):
        engine.applySettledFills(two, sender=operator)
    with ape.reverts(engine.PerpEngineTakerFeeAboveMax, fillIndex=0):
        engine.applySettledFills(pack_settled(mid, bob, alice, 2 * ONE, 2_000 * ONE, 0), sender=operator)
    with ape.reverts(engine.AccessControlUnauthorizedAccount, account=stranger, role=roles.SETTLER):
        engine.applySettledFills(one, sender=stranger)


def test_unknown_market_reverts(engine, registry, operator, accounts3):
    alice, bob, _ = accounts3
    with ape.reverts(registry.MarketRegistryUnknownMarket, marketId=99):
        apply(engine, operator, fill(99, bob, alice, ONE, 2_000 * ONE))


# ---------------------------------------------------------------- one-way: opens, adds, closes, flips vs model


def test_one_way_sequence_matches_reference_with_fees_api_and_tiers(
    engine, fees, admin, markets, operator, oracle, model, usdc, weth, accounts3
):
    alice, bob, carol = accounts3
    # low thresholds so the sequence crosses tiers
    tiers = [
        [0, 20 * 10**14, 2 * 10**14],
        [5_000 * ONE, 17 * 10**14, 25 * 10**13],
        [10_000 * ONE, 14 * 10**14, 3 * 10**14],
        [20_000 * ONE, 12 * 10**14, 35 * 10**13],
        [40_000 * ONE, 10 * 10**14, 4 * 10**14],
        [80_000 * ONE, 8 * 10**14, 5 * 10**14],
    ]
    fees.setTiers(tiers, sender=admin)
    sync_fees(model, fees)
    e = markets["eth20"]
    seq = [
        fill(e, bob, alice, 2 * ONE, 2_000 * ONE),
        fill(e, carol, alice, ONE + 333 * 10**15, 2_010_5 * 10**14, tflags=FLAG_API),
        fill(e, bob, alice, 777 * 10**15, 1_999_9 * 10**14, buy=False),
        fill(e, carol, alice, 5 * ONE, 2_020 * ONE, buy=False),  # flips alice short
        fill(e, alice, bob, 3 * ONE, 1_990 * ONE, buy=False, mflags=0, tflags=FLAG_API),
        fill(e, alice, carol, ONE, 2_000_0001 * 10**14),
    ]
    for f in seq:
        tx = apply(engine, operator, f)
        [(fee, rebate)] = model.apply_fills([f], day())
        [ev] = fills_applied(tx, engine)
        assert (ev.takerFeeX18, ev.makerRebateX18) == (fee, rebate)
        check_all(engine, model, accounts3, [usdc])
    for a in accounts3:
        for lg in (0, 1, 2):
            p = engine.positionOf(a, e, lg)
            mp = model.leg(str(a), e, lg)
            assert (p.size, p.openValueX18) == (mp.size, mp.open_value)
    # API discount applied: same notional at the same tier costs 10% less (rounded up)
    assert fees.tierOf(alice) > 0
    st = engine.marketStates(e)
    assert st.longOpenInterestX18 == st.shortOpenInterestX18  # P4
    assert usdc_pool_identity(engine, model, usdc)


def usdc_pool_identity(engine, model, token):
    onchain_pool = ape.chain.contracts.instance_at(engine.vault()).balances(engine, token)
    return onchain_pool == model.pool_identity(str(token))


def test_reduce_only_refuses_increase_and_flip_but_allows_reduction(engine, markets, operator, accounts3):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    with ape.reverts(engine.PerpEngineReduceOnly, fillIndex=0, account=alice):
        apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE, tflags=FLAG_REDUCE_ONLY))
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    with ape.reverts(engine.PerpEngineReduceOnly, fillIndex=0, account=alice):
        apply(engine, operator, fill(e, bob, alice, 2 * ONE, 2_000 * ONE, buy=False, tflags=FLAG_REDUCE_ONLY))
    apply(engine, operator, fill(e, bob, alice, ONE // 2, 2_000 * ONE, buy=False, tflags=FLAG_REDUCE_ONLY))
    assert engine.positionOf(alice, e, 0).size == ONE // 2


# ---------------------------------------------------------------- hedge mode


def test_hedge_mode_holds_both_legs_and_sums_their_margin(engine, markets, operator, model, usdc, accounts3):
    alice, bob, carol = accounts3
    e = markets["eth20"]
    tx = engine.setHedgeMode(e, True, sender=alice)
    assert [(x.account, x.marketId, x.enabled) for x in tx.events.filter(engine.HedgeModeSet)] == [(alice, e, True)]
    model.set_hedge_mode(str(alice), e, True)
    seq = [
        fill(e, bob, alice, 2 * ONE, 2_000 * ONE),  # long leg
        fill(e, carol, alice, ONE, 2_005 * ONE, buy=False, tflags=FLAG_SHORT_LEG),  # short leg
        fill(e, bob, alice, ONE // 2, 2_010 * ONE, buy=False),  # reduces the long leg
        fill(e, carol, alice, ONE // 4, 1_990 * ONE, tflags=FLAG_SHORT_LEG),  # reduces the short leg
    ]
    for f in seq:
        apply(engine, operator, f)
        model.apply_fills([f], day())
        check_all(engine, model, accounts3, [usdc])
    assert engine.positionOf(alice, e, 1).size == 3 * ONE // 2
    assert engine.positionOf(alice, e, 2).size == -3 * ONE // 4
    assert engine.positionOf(alice, e, 0).size == 0
    # both legs count toward the initial margin: 5% of (1.5 + 0.75) * 2,000
    assert engine.initialMargin(alice, usdc) == 5 * (3 * ONE // 2 + 3 * ONE // 4) * 2_000 // 100
    with ape.reverts(engine.PerpEngineHedgeLegOverclosed, fillIndex=0, account=alice):
        apply(engine, operator, fill(e, bob, alice, 2 * ONE, 2_000 * ONE, buy=False))
    with ape.reverts(engine.PerpEngineNotFlat, account=alice, marketId=e):
        engine.setHedgeMode(e, False, sender=alice)


# ---------------------------------------------------------------- status and oracle guards


@pytest.mark.parametrize("how", ["guardian-pause", "admin-reduce-only"])
def test_paused_market_blocks_increases_never_reductions(
    engine, registry, guardian, admin, markets, operator, accounts3, how
):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    if how == "guardian-pause":
        registry.pauseMarket(e, sender=guardian)
    else:
        registry.setStatus(e, 2, sender=admin)
    with ape.reverts(engine.PerpEngineRiskIncreaseBlocked, fillIndex=0, marketId=e):
        apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    apply(engine, operator, fill(e, bob, alice, ONE // 2, 2_000 * ONE, buy=False))
    assert engine.positionOf(alice, e, 0).size == ONE // 2


def test_unhealthy_oracle_blocks_increases_never_reductions(engine, oracle, admin, markets, operator, accounts3):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    oracle.setUnhealthy(ETH, True, sender=admin)
    with ape.reverts(engine.PerpEngineRiskIncreaseBlocked, fillIndex=0, marketId=e):
        apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE, buy=False))
    assert engine.openMarketsOf(alice, engine.vault() and registry_token(engine, e)) == []


def registry_token(engine, market_id):
    return ape.chain.contracts.instance_at(engine.registry()).getMarket(market_id).token


def test_stale_price_blocks_margin_checks(engine, oracle, admin, markets, operator, accounts3):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    oracle.setStale(ETH, True, sender=admin)
    with ape.reverts(oracle.MockPriceOracleStalePrice):
        apply(engine, operator, fill(e, bob, alice, ONE // 2, 2_000 * ONE, buy=False))
    # closing both sides flat needs no price: nothing is left to value
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE, buy=False))


def test_settled_market_takes_no_fills(engine, registry, admin, markets, operator, accounts3):
    alice, bob, _ = accounts3
    registry.setStatus(markets["eth20"], 4, sender=admin)
    with ape.reverts(engine.PerpEngineMarketSettled, fillIndex=0, marketId=markets["eth20"]):
        apply(engine, operator, fill(markets["eth20"], bob, alice, ONE, 2_000 * ONE))


# ---------------------------------------------------------------- limits


def test_min_notional_applies_to_risk_increases_only(engine, registry, admin, markets, operator, accounts3):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    apply(engine, operator, fill(e, bob, alice, ONE, 2_000 * ONE))
    registry.setTradingParams(e, trading_params(10**14, 10**15, 1_000 * ONE), sender=admin)
    with ape.reverts(engine.PerpEngineBelowMinNotional, fillIndex=0, notionalX18=200 * ONE, minNotionalX18=1_000 * ONE):
        apply(engine, operator, fill(e, bob, alice, ONE // 10, 2_000 * ONE))
    apply(engine, operator, fill(e, bob, alice, ONE // 10, 2_000 * ONE, buy=False))  # both sides reduce


def test_open_interest_cap_and_position_limit(engine, registry, admin, markets, operator, accounts3):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    registry.setTradingParams(e, trading_params(10**14, 10**15, 0, 3 * ONE, 2 * ONE), sender=admin)
    with ape.reverts(engine.PerpEnginePositionLimit, fillIndex=0, account=alice, sizeX18=3 * ONE, maxX18=2 * ONE):
        apply(engine, operator, fill(e, bob, alice, 3 * ONE, 2_000 * ONE))
    apply(engine, operator, fill(e, bob, alice, 2 * ONE, 2_000 * ONE))
    _, _, carol = accounts3
    registry.setTradingParams(e, trading_params(10**14, 10**15, 0, 3 * ONE, 0), sender=admin)
    with ape.reverts(engine.PerpEngineOpenInterestCap, fillIndex=0, openInterestX18=4 * ONE, capX18=3 * ONE):
        apply(engine, operator, fill(e, bob, carol, 2 * ONE, 2_000 * ONE))


def test_open_markets_per_account_are_bounded(engine, registry, oracle, admin, operator, usdc, accounts3, markets):
    alice, bob, _ = accounts3
    fills = []
    for _ in range(engine.MAX_OPEN_MARKETS() - 1):  # eth20 is the first
        mid = registry.marketCount() + 1
        registry.listMarket(BTC, usdc, 0, risk_params(50, ONE // 100), trading_params(10**14, 10**15), sender=admin)
        fills.append(fill(mid, bob, alice, ONE // 1000, 50_000 * ONE))
    apply(engine, operator, fill(markets["eth20"], bob, alice, ONE // 1000, 2_000 * ONE), *fills)
    assert engine.MAX_OPEN_MARKETS() == 8  # 8 uint16 lanes share the ledger entry's slot
    assert len(engine.openMarketsOf(alice, usdc)) == 8
    registry.listMarket(BTC, usdc, 0, risk_params(50, ONE // 100), trading_params(10**14, 10**15), sender=admin)
    with ape.reverts(engine.PerpEngineTooManyPositions, account=bob, token=usdc, max=8):
        apply(engine, operator, fill(registry.marketCount(), alice, bob, ONE // 1000, 50_000 * ONE, buy=False))


def test_ledger_balance_is_int128_next_to_the_open_market_lanes(
    engine, core, admin, markets, operator, usdc, accounts3, stranger, chain
):
    """The unsettled balance shares its slot with the open-market lanes: it holds exactly int128's range,
    a booking beyond reverts (never truncates), and neither half disturbs the other."""
    alice, bob, carol = accounts3
    with isolated(chain):
        apply(engine, operator, fill(markets["eth20"], bob, alice, ONE, 2_000 * ONE))
        lanes = list(engine.openMarketsOf(alice, usdc))
        assert markets["eth20"] in lanes
        core.acl.grantRole(roles.LIQUIDATOR, stranger, sender=admin)

        def transfer(src, dst, amount):
            return engine.liquidationTransfer(src, dst, usdc, amount, sender=stranger)

        for acct in (alice, stranger):  # start both at zero: carol absorbs their (small) balances
            bal = engine.unsettledX18(acct, usdc)
            if bal:
                transfer(acct, carol, bal) if bal > 0 else transfer(carol, acct, -bal)
        top = 2**127 - 1
        transfer(stranger, alice, top)
        assert (engine.unsettledX18(alice, usdc), engine.unsettledX18(stranger, usdc)) == (top, -top)
        assert list(engine.openMarketsOf(alice, usdc)) == lanes
        with ape.reverts(engine.SafeCastOverflowedIntDowncast, bits=128, value=top + 1):
            transfer(carol, alice, 1)
        transfer(stranger, carol, 1)  # the negative end: -2**127 is representable, one below is not
        assert engine.unsettledX18(stranger, usdc) == -(2**127)
        with ape.reverts(engine.SafeCastOverflowedIntDowncast, bits=128, value=-(2**127) - 1):
            transfer(stranger, carol, 1)
        assert list(engine.openMarketsOf(alice, usdc)) == lanes
        transfer(alice, stranger, top)  # room for the closing fill's maker rebate
        apply(engine, operator, fill(markets["eth20"], alice, bob, ONE, 2_000 * ONE))  # alice flat again
        assert markets["eth20"] not in list(engine.openMarketsOf(alice, usdc))
        assert list(engine.openMarketsOf(alice, usdc)) == [m for m in lanes if m != markets["eth20"]]


def test_leg_size_is_int112_and_reverts_beyond(engine, markets, operator, accounts3):
    """A leg's size and basis share its first slot with the funding epoch and hedge mode: a fill that would
    take the size beyond int112 (about 2.6e15 units) reverts, it never truncates."""
    alice, bob, _ = accounts3
    e = markets["eth20"]
    size0 = engine.positionOf(alice, e, 0).size
    big = (2**111 // LOT + 1) * LOT  # the first lot multiple above int112's range
    price = 10**15  # 0.001: the basis (big / 1000) stays in int104's range, only the size overflows
    with ape.reverts(engine.SafeCastOverflowedIntDowncast, bits=112, value=size0 + big):
        apply(engine, operator, fill(e, bob, alice, big, price))


# ---------------------------------------------------------------- end-state checks


def test_batch_checks_each_account_once_at_the_end(engine, markets, operator, accounts3, usdc, zero_fees):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    # 10,000 USDC at 20x = 200,000 notional = 100 ETH; an intermediate 150 ETH state is fine if the end is not
    apply(
        engine,
        operator,
        fill(e, bob, alice, 150 * ONE, 2_000 * ONE),
        fill(e, bob, alice, 50 * ONE, 2_000 * ONE, buy=False),
    )
    assert engine.positionOf(alice, e, 0).size == 100 * ONE
    assert engine.initialMargin(alice, usdc) == 10_000 * ONE


def test_reduction_below_maintenance_reverts_and_at_maintenance_passes(
    engine, markets, operator, oracle, admin, vault, usdc, funded, zero_fees
):
    alice, bob, _ = funded
    vault.deposit(usdc, 149 * USDC, sender=alice)
    vault.deposit(usdc, 100_000 * USDC, sender=bob)
    b = markets["btc50"]
    apply(engine, operator, fill(b, bob, alice, ONE // 10, 50_000 * ONE))
    oracle.setPrice(BTC, 48_900 * ONE, sender=admin)  # equity 39 < maintenance 48.9
    with ape.reverts(engine.PerpEngineBelowMaintenance):
        apply(engine, operator, fill(b, bob, alice, ONE // 100, 48_900 * ONE, buy=False))
    # full close leaves her flat with equity 39 >= 0
    apply(engine, operator, fill(b, bob, alice, ONE // 10, 48_900 * ONE, buy=False))
    assert engine.equity(alice, usdc) == 39 * ONE


# ---------------------------------------------------------------- withdrawal policy


def test_withdrawal_needs_initial_margin_after(engine, markets, operator, vault, usdc, accounts3, zero_fees):
    alice, bob, _ = accounts3
    apply(engine, operator, fill(markets["eth20"], bob, alice, 50 * ONE, 2_000 * ONE))  # IM 5,000 of 10,000
    with ape.reverts(vault.VaultWithdrawalNotAllowed):
        vault.withdraw(usdc, 5_000 * USDC + 1, sender=alice)
    vault.withdraw(usdc, 5_000 * USDC, sender=alice)
    assert engine.equity(alice, usdc) == 5_000 * ONE


def test_unrealised_profit_is_not_withdrawable_but_losses_count(
    engine, markets, operator, oracle, admin, vault, usdc, accounts3, zero_fees
):
    alice, bob, _ = accounts3
    apply(engine, operator, fill(markets["eth20"], bob, alice, 50 * ONE, 2_000 * ONE))  # IM 5,000
    oracle.setPrice(ETH, 2_100 * ONE, sender=admin)  # +5,000 unrealised; IM 5,250
    assert engine.equity(alice, usdc) == 15_000 * ONE
    with ape.reverts(vault.VaultWithdrawalNotAllowed):
        vault.withdraw(usdc, 4_750 * USDC + 1, sender=alice)
    vault.withdraw(usdc, 4_750 * USDC, sender=alice)
    # bob is short 50 at a 5,000 loss: usable = 10,000 - 5,000 vs IM 5,250
    with ape.reverts(vault.VaultWithdrawalNotAllowed):
        vault.withdraw(usdc, 1, sender=bob)


def test_negative_equity_gates_all_withdrawals_of_the_token(
    engine, markets, operator, oracle, admin, vault, usdc, weth, accounts3, zero_fees
):
    alice, bob, carol = accounts3
    apply(engine, operator, fill(markets["eth20"], bob, alice, 100 * ONE, 2_000 * ONE))
    oracle.setPrice(ETH, 1_850 * ONE, sender=admin)  # alice: 10,000 - 15,000 < 0
    tx = engine.pokeNegativeEquity(alice, usdc, sender=carol)
    [ev] = tx.events.filter(engine.NegativeEquityFlagSet)
    assert (ev.account, ev.flagged, ev.equityX18) == (alice, True, -5_000 * ONE)
    assert engine.negativeEquityCount(usdc) == 1
    with ape.reverts(vault.VaultWithdrawalNotAllowed):
        vault.withdraw(usdc, 1 * USDC, sender=carol)
    vault.withdraw(weth, ONE, sender=carol)  # other tokens are not gated
    oracle.setPrice(ETH, 2_000 * ONE, sender=admin)
    engine.pokeNegativeEquity(alice, usdc, sender=carol)
    assert engine.negativeEquityCount(usdc) == 0
    vault.withdraw(usdc, 1 * USDC, sender=carol)


# ---------------------------------------------------------------- settlement of PnL and fees


def test_settle_moves_losses_in_and_profits_out_through_the_pool(
    engine, fees, markets, operator, oracle, admin, vault, usdc, accounts3, model
):
    alice, bob, _ = accounts3
    e = markets["eth20"]
    for f in (fill(e, bob, alice, ONE, 2_000 * ONE), fill(e, bob, alice, ONE, 2_100 * ONE, buy=False)):
        apply(engine, operator, f)
        model.apply_fills([f], day())
    # alice +100 realised less fees, bob -100 plus rebates
    a_cash, b_cash = engine.unsettledX18(alice, usdc), engine.unsettledX18(bob, usdc)
    assert a_cash == model.unsettled[(str(alice), str(usdc))] and b_cash < 0 < a_cash
    # the pool is empty: alice's profit waits until bob's loss is settled
    assert engine.settle(alice, usdc, sender=alice).return_value == 0 or engine.unsettledX18(alice, usdc) == a_cash
    tx = engine.settle(bob, usdc, sender=alice)
    [ev] = tx.events.filter(engine.Settled)
    assert (ev.account, ev.amountX18) == (bob, b_cash)
    model.settle(str(bob), str(usdc))
    engine.settle(alice, usdc, sender=alice)
    model.settle(str(alice), str(usdc))
    assert vault.balances(alice, usdc) == 10_000 * ONE + a_cash
    assert engine.unsettledX18(alice, usdc) == 0
    # fees sit in the fee pool until distributed 20% / 80%
    pool = engine.feePoolX18(usdc)
    assert pool > 0 and pool == model.fee_pool[str(usdc)]
    tx = engine.distributeFees(usdc, sender=alice)
    [ev] = tx.events.filter(engine.FeesDistributed)
    to_t, to_i = model.distribute_fees(str(usdc), TREASURY, INSURANCE)
    assert (ev.treasuryX18, ev.insuranceX18) == (to_t, to_i)
    assert engine.unsettledX18(INSURANCE, usdc) == to_i and to_i * 5 >= pool
    assert vault.balances(engine, usdc) == model.pool_identity(str(usdc))
    engine.settle(TREASURY, usdc, sender=alice)
    assert vault.balances(TREASURY, usdc) == to_t


def test_pool_identity_holds_with_open_positions(
    engine, markets, operator, oracle, admin, vault, usdc, accounts3, model
):
    alice, bob, carol = accounts3
    e, b = markets["eth20"], markets["btc50"]
    steps = [
        fill(e, bob, alice, 3 * ONE, 2_000 * ONE),
        fill(b, carol, alice, ONE // 10, 50_000 * ONE),
        fill(e, carol, bob, 2 * ONE, 2_050 * ONE, buy=False),
        fill(b, alice, carol, ONE // 20, 49_000 * ONE),
    ]
    for f in steps:
        apply(engine, operator, f)
        model.apply_fills([f], day())
        for a in accounts3:
            engine.settle(a, usdc, sender=a)
            model.settle(str(a), str(usdc))
        assert vault.balances(engine, usdc) == model.pool_identity(str(usdc))
        assert vault.balances(engine, usdc) >= 0
