"""Protocol-wide Hypothesis state machine: Vault + PerpEngine + Settlement + LiquidationModule.

Rules: deposits, signed orders settled in Merkle batches through Settlement (orders built and signed
with the offchain SDK: offchain.orders + offchain.settlement), replayed batches, oracle price moves,
funding accruals, flags, clears and forced liquidations, insurance-fund drains (so bad debt exceeds
what the fund can absorb) and auto-deleveraging, account settlement, withdrawals and time jumps drawn
around the 30 s grace boundary and the 8 h funding interval.

Both directions are checked where the outcome is predictable from public views: a flag, clear, forced
close or withdrawal succeeds iff the prediction says so. A refused batch must leave the chain untouched
(atomicity). Invariants after every step (SECURITY.md): P1 conservation (Vault token balance equals
the sum of all account balances), P3 (the engine's pool covers every claim: Vault balance of the
engine >= fee pool), P4 balanced open interest, P6 margin after risk increases, P8/P9 liquidation
preconditions and the exact forced-close price, P10 insurance fund >= 0, P11 (liveness: a
liquidatable leg past the grace is always closable, by a forced close or, when the fund refuses
with LiquidationInsuranceInsufficient, by an ADL step at the exact bankruptcy price against the
top-ranked opposite leg, never leaving the account flat with negative equity), P13 withdrawals never exceed
the settled balance, P14 fills monotone and bounded, P15 batch ids strictly consecutive and a settled
batch cannot be replayed. Teardown (P2): close every position at the oracle price, settle and withdraw
everything: every exit succeeds and the traders together withdraw no more than they deposited plus
what the protocol's own accounts lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import ape
import pytest
from eth_utils import keccak
from helpers import machine_settings, static_revert_error
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from offchain.deploy import RoleHolders, deploy_core
from offchain.liquidation.deploy import deploy_liquidation
from offchain.liquidation.reference import PROFIT_TIER, adl_absorbable, bankruptcy_price, close_price
from offchain.orders.order import Order
from offchain.orders.signing import sign_order
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE, mark_value_floor, value_up
from offchain.perp.model import Fill
from offchain.settlement.chain import ApeChainClient, SettlementRevert
from offchain.settlement.deploy import deploy_settlement, domain_of
from offchain.settlement.fills import SettlementFill, batch_tree, encode_batch

ASSET = keccak(text="AUDIT-ETH")
USDC = 10**6
SCALE = 10**12
TICK = 10**16
LOT = 10**15
START_PRICE = 2_000 * ONE
FUND_SEED = 5_000_000 * USDC
FAR = 2**40
MARKET = 1
GRACE = 30
WHO = st.integers(0, 2)
LEGS = st.lists(st.tuples(WHO, WHO, st.integers(1, 40_000), st.booleans(), st.integers(-3, 3)), min_size=1, max_size=3)
DT = st.one_of(st.sampled_from([1, 29, 30, 31, 8 * 3600 - 1, 8 * 3600, 8 * 3600 + 1]), st.integers(1, 3 * 3600))


def _settings() -> settings:
    if os.environ.get("AUDIT_MACHINE_EXAMPLES"):  # a bounded random run, e.g. "30x40" (examples x steps)
        examples, steps = (int(x) for x in os.environ["AUDIT_MACHINE_EXAMPLES"].split("x"))
        return settings(max_examples=examples, stateful_step_count=steps, derandomize=False)
    if os.environ.get("AUDIT_MACHINE_DEBUG"):  # no shrinking: fail fast while developing
        return settings(max_examples=5, stateful_step_count=15, phases=[Phase.generate], print_blob=True)
    return machine_settings(ci=(3, 10), nightly=(20, 30))


def _key(account) -> bytes:
    return bytes.fromhex(str(account.private_key).removeprefix("0x"))


@dataclass
class Ghost:
    """Off-chain ledger of what the machine did."""

    deposited: dict[str, int] = field(default_factory=dict)  # token units
    withdrawn: dict[str, int] = field(default_factory=dict)
    fund_drained: int = 0  # token units the admin took out of the insurance fund (not a trader gain)
    nonce: int = 0
    orders: list[Order] = field(default_factory=list)
    last_fills: list[SettlementFill] = field(default_factory=list)
    flagged_at: dict[str, int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1


STATS: dict[str, int] = {}


@pytest.fixture(scope="module")
def protocol_machine(project, chain, accounts):
    """The deployment and the machine class over it (module scope: both tests share one deployment; each
    machine run snapshots the chain in ``setup`` and restores it in ``teardown``)."""
    admin, operator, keeper, guardian, officer = accounts[0], accounts[1], accounts[2], accounts[3], accounts[4]
    traders = [accounts[5], accounts[6], accounts[7]]
    treasury = accounts[9]
    core = deploy_core(
        project,
        admin,
        RoleHolders(operators=[operator], keepers=[keeper], guardians=[guardian], compliance=[officer]),
        allowlist_enforced=True,
    )
    vault, compliance = core.vault, core.compliance
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    vault.listCollateral(usdc, 10**30, sender=admin)
    oracle = project.MockPriceOracle.deploy(sender=admin)
    oracle.setPrice(ASSET, START_PRICE, sender=admin)
    # the operator is also a direct settler: the teardown closes the fund's positions through the engine
    perp = deploy_perp(
        project, admin, core, oracle, treasury=treasury, insurance_fund=treasury, settlers=[operator], funders=[keeper]
    )
    engine = perp.engine
    perp.registry.listMarket(ASSET, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(TICK, LOT), sender=admin)
    settlement = deploy_settlement(project, admin, core, perp)
    liq = deploy_liquidation(project, admin, core, perp, markets=[MARKET], treasury=treasury)
    fund, module, adl = liq.fund, liq.module, liq.adl
    for who in (*traders, fund, treasury, admin):
        compliance.setAllowed(who, 1, FAR, sender=officer)
    for t in traders:
        usdc.mint(t, 10**9 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
    usdc.mint(admin, FUND_SEED, sender=admin)
    usdc.approve(vault, FUND_SEED, sender=admin)
    vault.depositFor(fund, usdc, FUND_SEED, sender=admin)
    domain = domain_of(settlement, chain.chain_id)
    holders = [*traders, fund, treasury, keeper, engine]  # the keeper earns forced-close rewards

    def balance(who) -> int:
        return vault.balances(who, usdc)

    def size_of(who) -> int:
        return engine.positionOf(who, MARKET, 0).size  # one-way orders only: hedge legs stay empty

    def index() -> int:
        return oracle.getPrice(ASSET)[0]

    class ProtocolMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            self.snap = chain.snapshot()
            self.ghost = Ghost()
            for t in traders:
                vault.deposit(usdc, 10_000 * USDC, sender=t)
                self.ghost.deposited[str(t)] = 10_000 * USDC
            self.trade([(0, 1, 80_000, True, 0)])  # every example starts with open positions

        @rule(legs=LEGS)
        def trade_again(self, legs):
            self.trade(legs)

        def teardown(self) -> None:
            if not hasattr(self, "snap"):
                return
            try:
                self.exit_all()
            finally:
                for k, v in self.ghost.stats.items():
                    STATS[k] = STATS.get(k, 0) + v
                chain.restore(self.snap)

        # ------------------------------------------------------------ helpers

        def order(self, trader, buy: bool, size: int, price: int) -> Order:
            self.ghost.nonce += 1
            o = Order(str(trader), MARKET, buy, 0, 0, 10, size, price, ONE // 100, self.ghost.nonce, FAR)
            self.ghost.orders.append(o)
            return o

        def submit(self, fills: list[SettlementFill], batch_id: int | None = None, simulate: bool = False):
            """Settle ``fills``; with ``simulate``, an ``eth_call`` first raises the decoded ``SettlementRevert``
            of a batch the chain would refuse (an engine error inside settleBatch makes ape trace the whole
            transaction to decode it: minutes per refused batch)."""
            bid = settlement.lastBatchId() + 1 if batch_id is None else batch_id
            root = batch_tree(bid, fills).root
            if simulate:
                ApeChainClient(settlement, engine, operator, ape.chain.provider).prepare(bid, root, fills)
            return settlement.settleBatch(bid, root, encode_batch(fills), sender=operator)

        def state(self) -> tuple:
            return (
                settlement.lastBatchId(),
                tuple(size_of(t) for t in traders),
                tuple(balance(h) for h in holders),
                tuple(settlement.orderState(_tuple(o))[1] for o in self.ghost.orders[-2:]),
            )

        # ------------------------------------------------------------ rules

        @rule(who=WHO, amount=st.integers(1, 20_000 * USDC))
        def deposit(self, who, amount):
            t = traders[who]
            before = balance(t)
            vault.deposit(usdc, amount, sender=t)
            assert balance(t) == before + amount * SCALE
            self.ghost.deposited[str(t)] = self.ghost.deposited.get(str(t), 0) + amount

        @rule(legs=LEGS)
        def trade(self, legs):
            """A batch of fills between signed orders (P6, P14, P15 on success; atomicity on refusal)."""
            self.ghost.count("trade attempted")
            fills = []
            for maker_i, taker_i, lots, taker_buys, ticks in legs:
                if maker_i == taker_i:
                    taker_i = (maker_i + 1) % 3
                price = index() + ticks * TICK
                size = lots * LOT
                maker = self.order(traders[maker_i], not taker_buys, size, price)
                taker = self.order(traders[taker_i], taker_buys, size, price)
                fills.append(
                    SettlementFill(
                        sign_order(maker, domain, _key(traders[maker_i])),
                        sign_order(taker, domain, _key(traders[taker_i])),
                        size,
                        price,
                    )
                )
            before = self.state()
            sizes_before = {str(t): size_of(t) for t in traders}
            last = settlement.lastBatchId()
            try:
                self.submit(fills, simulate=True)
            except (ape.exceptions.ContractLogicError, SettlementRevert) as exc:
                if os.environ.get("AUDIT_MACHINE_DEBUG"):
                    print("batch refused:", repr(exc)[:300])
                assert self.state() == before  # P15: one bad fill reverts the whole batch
                self.ghost.count("batch refused")
                return
            self.ghost.count("batch settled")
            assert settlement.lastBatchId() == last + 1  # P15
            for f in fills:  # P14: each order filled exactly once, never beyond its size
                for signed in (f.maker, f.taker):
                    assert settlement.orderState(_tuple(signed.order))[1] == f.size_x18 == signed.order.size
            for t in traders:  # P6: a risk increase leaves the account at or above initial margin
                now = size_of(t)
                if abs(now) > abs(sizes_before[str(t)]) or now * sizes_before[str(t)] < 0:
                    assert engine.equity(t, usdc) >= engine.initialMargin(t, usdc)
            self.ghost.last_fills = fills

        @rule(same_id=st.booleans())
        def replay_last_batch(self, same_id):
            """P15 / C4: a settled batch cannot settle again, under its own id or the next one."""
            if not self.ghost.last_fills:
                return
            before = self.state()
            bid = settlement.lastBatchId() if same_id else None
            with ape.reverts():
                self.submit(self.ghost.last_fills, batch_id=bid)
            assert self.state() == before

        @rule(bps=st.one_of(st.integers(-600, 600), st.sampled_from([-600, 600])))
        def move_price(self, bps):
            new = max(TICK, index() * (10_000 + bps) // 10_000 // TICK * TICK)
            oracle.setPrice(ASSET, new, sender=admin)

        @rule(rate_bps=st.integers(-10, 10))
        def accrue_funding(self, rate_bps):
            engine.accrueFunding(MARKET, rate_bps * ONE // 10_000, sender=keeper)
            for t in traders:
                engine.settleFunding(t, MARKET, sender=keeper)

        @rule(who=WHO, action=st.sampled_from(["flag", "clear", "force"]))
        def liquidate(self, who, action):
            """Keeper actions on one account: flag, clear the flag, or force-close after the grace."""
            {"flag": self.flag, "clear": self.clear_flag, "force": self.force_close}[action](who)

        @rule(
            down=st.booleans(),
            bps=st.sampled_from([300, 500, 800]),
            wait=st.sampled_from([GRACE - 1, GRACE, GRACE + 1]),
        )
        def shock_and_liquidate(self, down, bps, wait):
            """A sharp move, then every keeper step around the grace boundary (P8, P9, P10 on real cases)."""
            self.move_price(-bps if down else bps)
            for who in range(3):
                self.flag(who)
            chain.pending_timestamp += wait
            chain.mine()
            for who in range(3):
                self.force_close(who)
                self.clear_flag(who)

        @rule(who=WHO, down=st.booleans())
        def bankruptcy_beyond_the_fund(self, who, down):
            """Empty the fund, open a near-max-leverage position, move 8% against it: the forced close is
            refused for lack of insurance and ADL must close the leg (P11, P12)."""
            self.drain_fund(0)
            t, maker, price = traders[who], (who + 1) % 3, index()
            self.deposit(maker, 1_000_000 * USDC)  # the other side can carry it
            target = max(0, int(engine.equity(t, usdc))) * 18 * ONE // price  # 18x, under the 20x cap
            lots = (target - (size_of(t) if down else -size_of(t))) // LOT  # what takes it to the target
            if lots > 0:
                self.trade([(maker, who, lots, down, 0)])  # the taker buys when the price will fall
            self.shock_and_liquidate(down, 800, GRACE + 1)

        def flag(self, who):
            t = traders[who]
            predicted = module.flaggedAt(t, usdc) == 0 and engine.equity(t, usdc) < engine.maintenanceMargin(t, usdc)
            try:
                module.flag(t, usdc, sender=keeper)
                ok = True
            except ape.exceptions.ContractLogicError:
                ok = False
            assert ok == predicted  # P8: only accounts below maintenance are flagged
            if ok:
                self.ghost.count("flagged")

        def clear_flag(self, who):
            t = traders[who]
            predicted = module.flaggedAt(t, usdc) != 0 and not engine.isLiquidatable(t, usdc)
            try:
                module.clearFlag(t, usdc, sender=keeper)
                ok = True
            except ape.exceptions.ContractLogicError:
                ok = False
            assert ok == predicted  # P9: the timer resets on recovery
            if ok:
                assert module.flaggedAt(t, usdc) == 0

        def force_close(self, who):
            t = traders[who]
            at = module.flaggedAt(t, usdc)
            size = engine.positionOf(t, MARKET, 0).size
            now = chain.pending_timestamp = chain.pending_timestamp  # pinned: the grace boundary is exact
            predicted = at != 0 and now >= at + GRACE and engine.isLiquidatable(t, usdc) and size != 0
            gamma, idx = module.gamma(MARKET), index()
            fund_eq = engine.equity(fund, usdc)
            # Simulated first (eth_call on the pending block): an engine error inside forceClose makes ape
            # trace the whole transaction to decode it, seconds per refusal.
            args = (t, MARKET, 0)
            refusal = static_revert_error(module, "forceClose", *args, sender=keeper, also=(engine,), block="pending")
            ok = refusal is None
            if ok:
                tx = module.forceClose(t, MARKET, 0, sender=keeper)
            if predicted and not ok:  # P11: only a fund that cannot absorb the bad debt refuses ...
                assert _fund_refused(refusal, fund), refusal
                self.auto_deleverage(t, size)  # ... and then ADL must close the leg
                return
            assert ok == predicted, (ok, predicted, at, now, size)  # P9: grace and health both required
            if not ok:
                return
            self.ghost.count("forced close")
            ev = next(iter(tx.events.filter(module.ForcedClose)))
            assert ev.priceX18 == close_price(size > 0, idx, gamma)  # P9: exactly index x (1 -/+ gamma)
            after = engine.positionOf(t, MARKET, 0).size
            assert after == 0 or not engine.isLiquidatable(t, usdc) or abs(after) < abs(size)  # P8
            assert engine.equity(fund, usdc) >= 0  # P10
            assert fund_eq >= 0

        def auto_deleverage(self, t, size):
            """P11/P12: one ADL step against the top-ranked opposite leg at the bankruptcy price."""
            parties = (*traders, fund)
            cands = sorted(
                (str(p) for p in parties if (s := engine.positionOf(p, MARKET, 0).size) != 0 and (s > 0) != (size > 0)),
                key=lambda a: int(a, 16),
            )
            assert cands, "a bankrupt leg always has an opposite side (P4)"
            scores = [adl.adlScore(a, MARKET, 0) for a in cands]
            victim = max(range(len(cands)), key=lambda i: scores[i])
            victim_size = engine.positionOf(cands[victim], MARKET, 0).size
            idx, equity = index(), engine.equity(t, usdc)
            victim_equity = engine.equity(cands[victim], usdc)
            pb = bankruptcy_price(size, idx, equity)
            # the whole overlap (no close cap set here), cut to what the victim's equity absorbs
            closed = min(abs(size), abs(victim_size))
            victim_delta = closed if size > 0 else -closed
            loss = value_up(False, victim_delta, pb) - mark_value_floor(False, victim_delta, idx)
            closed = adl_absorbable(closed, loss, victim_equity)
            assert closed > 0, "the top-ranked victim (key > 0) absorbs at least one unit"
            if max(scores) < PROFIT_TIER:
                self.ghost.count("adl step, nobody in profit")
            tx = adl.adl(t, MARKET, 0, [(a, 0) for a in cands], victim, sender=keeper)
            self.ghost.count("adl step")
            ev = next(iter(tx.events.filter(adl.AdlStep)))
            assert ev.victim == cands[victim] and ev.score == max(scores)  # P12: the top-ranked leg
            assert ev.priceX18 == pb  # P12: exactly the bankruptcy price
            after = engine.positionOf(t, MARKET, 0).size
            assert abs(after) == abs(size) - closed
            assert abs(engine.positionOf(cands[victim], MARKET, 0).size) == abs(victim_size) - closed
            assert engine.equity(cands[victim], usdc) >= 0  # P11: the victim stays solvent
            if after == 0:
                assert engine.equity(t, usdc) >= 0  # P11: no negative equity left behind
                assert module.flaggedAt(t, usdc) == 0

        @rule(keep=st.sampled_from([0, 100 * USDC, 2_000 * USDC]))
        def drain_fund(self, keep):
            """Governance takes the insurance fund down to ``keep``: the next bankruptcies need ADL."""
            # What the fund can withdraw: its settled Vault balance, less what the engine's withdrawal guard
            # keeps for margin (unrealised profit counts in `available` but cannot leave the Vault).
            if engine.negativeEquityCount(usdc) != 0:
                return  # withdrawals are gated while any account has negative equity
            if engine.openMarketsOf(fund, usdc):  # P10: capital backing inherited positions stays
                refusal = static_revert_error(fund, "withdraw", usdc, 1, admin, sender=admin, block="pending")
                assert type(refusal).__name__ == "InsuranceFundPositionsOpen", refusal
                return
            fund.settle(usdc, sender=keeper)
            bal = balance(fund)
            room = bal + min(engine.equity(fund, usdc) - bal, 0) - engine.initialMargin(fund, usdc)
            amount = max(0, min(room, fund.available(usdc)) // SCALE - keep)
            if amount:
                fund.withdraw(usdc, amount, admin, sender=admin)
                self.ghost.fund_drained += amount
                self.ghost.count("fund drained")

        @rule(who=st.integers(0, 3))
        def settle_account(self, who):
            acct = fund if who == 3 else traders[who]
            eq = engine.equity(acct, usdc)
            engine.settle(acct, usdc, sender=keeper)
            assert engine.equity(acct, usdc) == eq  # settling moves cash, never equity
            engine.pokeNegativeEquity(acct, usdc, sender=keeper)

        @rule(who=WHO, share=st.integers(1, 100))
        def withdraw(self, who, share):
            """Succeeds iff the engine's policy allows it, computed from public views (P6, P12, P13)."""
            t = traders[who]
            bal = balance(t)
            amount = bal // SCALE * share // 100
            if amount == 0:
                return
            after = bal - amount * SCALE
            pending = engine.equity(t, usdc) - bal  # unsettled cash + unrealised PnL
            gated = engine.negativeEquityCount(usdc) != 0
            predicted = not gated and after + min(pending, 0) >= engine.initialMargin(t, usdc)
            try:
                vault.withdraw(usdc, amount, sender=t)
                ok = True
            except ape.exceptions.ContractLogicError:
                ok = False
            assert ok == predicted, (ok, predicted, after, pending)
            if ok:
                self.ghost.count("withdrawal")
                self.ghost.withdrawn[str(t)] = self.ghost.withdrawn.get(str(t), 0) + amount
                assert balance(t) == after  # P13: only the settled balance leaves, never pending profit

        @rule(dt=DT)
        def warp(self, dt):
            chain.pending_timestamp += dt
            chain.mine()

        # ------------------------------------------------------------ invariants

        @invariant()
        def conservation(self):
            if not hasattr(self, "snap"):
                return
            total = vault.collaterals(usdc).totalX18
            assert usdc.balanceOf(vault) * SCALE == total  # P1 (no donations here)
            assert total == sum(balance(h) for h in holders)
            s = engine.marketStates(MARKET)
            parties = (*traders, fund)
            positions = [engine.positionOf(p, MARKET, 0) for p in parties]  # the treasury never trades
            identity = sum(engine.unsettledX18(p, usdc) for p in (*parties, treasury, keeper)) + engine.feePoolX18(usdc)
            identity += s.fundingPoolX18 - sum(p.openValueX18 for p in positions)
            assert balance(engine) == identity  # P1/P3: every trade, fee and funding flow is zero-sum
            assert s.fundingPoolX18 * ONE - s.fundingWeightX36 >= 0  # P5: the funding pool covers every claim
            assert s.longOpenInterestX18 == s.shortOpenInterestX18  # P4
            assert sum(p.size for p in positions) == 0
            assert engine.equity(fund, usdc) >= 0  # P10

        # ------------------------------------------------------------ teardown: P2

        def exit_all(self) -> None:
            """Liquidate what is unhealthy, close everything at the index, settle, withdraw everything."""
            for t in traders:
                for _ in range(8):  # a forced close, or ADL steps (each cut to its victim's equity)
                    size = engine.positionOf(t, MARKET, 0).size
                    if not engine.isLiquidatable(t, usdc) or size == 0:
                        break
                    if module.flaggedAt(t, usdc) == 0:
                        module.flag(t, usdc, sender=keeper)
                    chain.pending_timestamp += GRACE
                    chain.mine()
                    self.force_close(traders.index(t))
            price = index()
            parties = [*traders, fund]
            for _ in range(8):
                sizes = [(p, engine.positionOf(p, MARKET, 0).size) for p in parties]
                longs = [(p, s) for p, s in sizes if s > 0]
                shorts = [(p, s) for p, s in sizes if s < 0]
                if not longs:
                    break
                (lp, ls), (sp, ss) = longs[0], shorts[0]
                fill = Fill(MARKET, str(sp), str(lp), False, min(ls, -ss), price, 0, 0)
                engine.applyFills([fill.as_tuple()], sender=operator)
            assert all(engine.positionOf(p, MARKET, 0).size == 0 for p in parties), "exit-all left positions"
            engine.distributeFees(usdc, sender=keeper)
            for _ in range(2):  # profits are paid from the pool once losers have paid in
                for h in (*traders, fund, treasury, keeper):
                    engine.settle(h, usdc, sender=keeper)
                    engine.pokeNegativeEquity(h, usdc, sender=keeper)
            assert engine.negativeEquityCount(usdc) == 0, "an account is left with bad debt"
            paid_out = 0
            for t in traders:
                owed = engine.equity(t, usdc)
                assert owed == balance(t), "an account still has unsettled cash after settling"
                amount = balance(t) // SCALE
                if amount:
                    vault.withdraw(usdc, amount, sender=t)
                assert amount * SCALE <= owed  # nobody gets more than they are owed
                paid_out += amount + self.ghost.withdrawn.get(str(t), 0)
            amount = 0  # what the protocol's own accounts (treasury fees, keeper rewards) take out
            for own in (treasury, keeper):
                if taken := balance(own) // SCALE:
                    vault.withdraw(usdc, taken, sender=own)
                    amount += taken
            fund_left = balance(fund) // SCALE
            if fund_left:
                fund.withdraw(usdc, fund_left, admin, sender=admin)
            deposited = sum(self.ghost.deposited.values())
            # Traders' total payout is bounded by their deposits plus what the fund lost (it absorbed
            # bad debt and forced-close discounts); no value is created.
            fund_lost = FUND_SEED - fund_left - self.ghost.fund_drained
            assert paid_out + amount <= deposited + max(0, fund_lost)
            assert usdc.balanceOf(vault) * SCALE >= vault.collaterals(usdc).totalX18
            self.ghost.count("exit-all")

    return ProtocolMachine


def test_protocol_machine(protocol_machine):
    run_state_machine_as_test(protocol_machine, settings=_settings())
    print(STATS)
    # the machine must exercise accepted batches and the full exit, or it proves nothing
    assert STATS.get("batch settled", 0) > 0 and STATS.get("exit-all", 0) > 0, STATS


def test_bankruptcy_beyond_the_fund_is_auto_deleveraged(protocol_machine):
    """The ADL path on a fixed sequence (random runs reach it only sometimes): an emptied fund, a near-max
    long, an 8% drop: the forced close is refused for lack of insurance, ADL closes the leg at the bankruptcy
    price against the top-ranked short, every invariant holds and the exit-all teardown succeeds."""
    machine = protocol_machine()
    before = dict(STATS)
    try:
        machine.setup()
        machine.conservation()
        machine.bankruptcy_beyond_the_fund(who=0, down=True)
        machine.conservation()
    finally:
        machine.teardown()
    assert STATS.get("adl step", 0) > before.get("adl step", 0), (before, STATS)
    assert STATS.get("exit-all", 0) > before.get("exit-all", 0), STATS


def test_bankruptcy_when_no_opposite_leg_is_in_profit(protocol_machine):
    """The nightly machine's shrunk example (2026-11-22, formerly an open finding): after a 3% drop, trades, a
    6% drop and trades at the lower price, a near-max short goes bankrupt on an 8% rise with the fund empty;
    every long entered above the price or paid funding, so no ADL candidate is in profit. ADL then ranks by
    equity (AdlRanking's fallback tier) and closes the leg at the bankruptcy price, leaving the victim
    solvent (P11)."""
    machine = protocol_machine()
    try:
        machine.setup()
        machine.shock_and_liquidate(bps=300, down=True, wait=29)
        machine.warp(dt=256)
        machine.trade(legs=[(1, 1, 310, False, -2)])
        machine.trade(legs=[(0, 1, 513, False, -2)])
        machine.withdraw(share=92, who=2)
        machine.deposit(amount=1736963, who=0)
        machine.move_price(bps=-600)
        machine.trade(legs=[(1, 0, 10193, False, -1), (1, 0, 10193, False, -1)])
        machine.deposit(amount=354, who=1)
        machine.withdraw(share=57, who=2)
        machine.bankruptcy_beyond_the_fund(down=False, who=2)
        assert machine.ghost.stats.get("adl step, nobody in profit", 0) >= 1, machine.ghost.stats
        machine.conservation()
    finally:
        machine.teardown()  # the exit-all teardown goes through ADL too


def _fund_refused(error, fund) -> bool:
    """The refusals of a forced close that only an exhausted insurance fund causes: it cannot cover the bad
    debt, or it cannot carry the margin of the leg it would take over (the engine's check on the fund)."""
    name = type(error).__name__
    if name == "LiquidationInsuranceInsufficient":
        return True
    return name == "PerpEngineInsufficientMargin" and error.inputs["account"] == fund.address


def _tuple(order: Order) -> tuple:
    m = order.as_message()
    return tuple(m[name] for name in m)
