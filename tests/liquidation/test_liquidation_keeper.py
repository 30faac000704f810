"""Liquidation keeper end to end on the local chain (through its functions), mirror exactness, and
the keeper's safety switches (dry-run, gas cap, profitable-only)."""

from __future__ import annotations

from liq_helpers import LINEAR, ONE, set_price

from offchain.liquidation.keeper import KeeperConfig, LiquidationKeeper
from offchain.liquidation.mirror import AccountMirror


def make_keeper(l_stack, vault, sender, **cfg) -> LiquidationKeeper:
    return LiquidationKeeper(
        engine=l_stack.engine,
        liq=l_stack.liq,
        adl=l_stack.adl,
        vault=vault,
        registry=l_stack.registry,
        oracle=l_stack.oracle,
        sender=sender,
        config=KeeperConfig(**cfg),
        mirror=AccountMirror(),
    )


def test_mirror_matches_engine_exactly(l_stack, book, vault, keeper, chain, admin, usdc):
    k = make_keeper(l_stack, vault, keeper)
    k.sync(chain.blocks.head.number)
    for price in (2_000 * ONE, 1_937 * ONE + 3, 1_901 * ONE):
        set_price(l_stack, admin, price)
        prices = k.prices()
        for name, acct in book.items():
            h = k.mirror.exact_health(str(acct), str(usdc), prices)
            assert h.equity == l_stack.engine.equity(acct, usdc), name
            assert h.maintenance == l_stack.engine.maintenanceMargin(acct, usdc), name
            assert h.liquidatable == l_stack.engine.isLiquidatable(acct, usdc), name


def test_keeper_liquidates_exactly_the_three_after_grace(l_stack, book, vault, keeper, chain, admin, usdc):
    k = make_keeper(l_stack, vault, keeper)
    k.sync(chain.blocks.head.number)
    assert k.step(chain.pending_timestamp) == []  # all healthy at 2,000
    set_price(l_stack, admin, 1_920 * ONE)  # the price drop
    k.sync(chain.blocks.head.number)
    acts = k.step(chain.pending_timestamp)
    three = {str(book[n]) for n in ("alice", "carol", "dave")}
    assert {a.account for a in acts if a.kind == "flag"} == three
    assert not [a for a in acts if a.kind == "forceClose"]
    chain.pending_timestamp += 10
    k.sync(chain.blocks.head.number)
    assert [a for a in k.step(chain.pending_timestamp) if a.kind == "forceClose"] == []  # grace running
    chain.pending_timestamp += 21
    chain.mine()
    k.sync(chain.blocks.head.number)
    acts = k.step(chain.blocks.head.timestamp + 1)
    assert {a.account for a in acts if a.kind == "forceClose"} == three
    for n in ("alice", "carol", "dave"):
        assert l_stack.engine.positionOf(book[n], LINEAR, 0).size == 0
    assert l_stack.engine.positionOf(book["eve"], LINEAR, 0).size == ONE
    k.sync(chain.blocks.head.number)
    assert k.flagged == {}
    assert k.metrics.closes == 3 and k.metrics.flags == 3


def test_dry_run_sends_nothing_and_gas_cap_holds(l_stack, book, vault, keeper, chain, admin, usdc):
    set_price(l_stack, admin, 1_920 * ONE)
    dry = make_keeper(l_stack, vault, keeper, dry_run=True)
    dry.sync(chain.blocks.head.number)
    acts = dry.step(chain.pending_timestamp)
    assert len(acts) == 3 and not any(a.sent for a in acts)
    assert l_stack.liq.flaggedAt(book["alice"], usdc) == 0
    capped = make_keeper(l_stack, vault, keeper, max_gas_price_wei=10)
    capped.gas_price = lambda: 11
    capped.sync(chain.blocks.head.number)
    assert capped.step(chain.pending_timestamp) == []
    assert capped.metrics.skipped_gas == 1


def test_profitable_only_skips_when_gas_costs_more(l_stack, book, vault, keeper, chain, admin, usdc):
    set_price(l_stack, admin, 1_920 * ONE)
    k = make_keeper(l_stack, vault, keeper, profitable_only=True, native_price_x18=2_000 * ONE)
    k.gas_price = lambda: 10**12  # 1000 gwei: 420k gas = 0.42 ETH = 840 USDC > any reward here
    k.sync(chain.blocks.head.number)
    k.step(chain.pending_timestamp)  # flags (no reward involved)
    chain.pending_timestamp += 31
    chain.mine()
    k.sync(chain.blocks.head.number)
    acts = k.step(chain.blocks.head.timestamp + 1)
    assert [a for a in acts if a.kind == "forceClose"] == []
    assert k.metrics.skipped_unprofitable == 3
    k.gas_price = lambda: 10**9  # 1 gwei: 0.8 USDC of gas, rewards are 4.8 .. 96 USDC
    acts = k.step(chain.blocks.head.timestamp + 1)
    assert len([a for a in acts if a.kind == "forceClose"]) == 3
