"""Gas of funding and liquidation for ``make gas``: funding update, flag, forced close, one ADL step.

``measure(project, accounts)`` deploys a fresh core + engine + funding module + liquidation module on
the connected (local) chain, opens positions and returns ``(label, gas)`` pairs.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from offchain.deploy import RoleHolders, deploy_core
from offchain.funding.deploy import deploy_funding
from offchain.liquidation.deploy import deploy_liquidation
from offchain.perp.deploy import deploy_perp, risk_params, trading_params

ETH = keccak(text="ETH")
ONE = 10**18
USDC = 10**6


def _fill(maker: Any, taker: Any, size: int, price: int, buy: bool) -> tuple:
    return (1, str(maker), str(taker), buy, size, price, 0, 0)


def measure(project: Any, accounts: Any) -> list[tuple[str, int]]:
    """Deploy, trade, crash the price and return the gas of each funding/liquidation step."""
    from ape import chain

    admin, alice, bob, carol, dave = accounts[0], accounts[1], accounts[2], accounts[3], accounts[4]
    core = deploy_core(project, admin, RoleHolders(keepers=[admin], operators=[admin]), allowlist_enforced=False)
    oracle = project.MockPriceOracle.deploy(sender=admin)
    oracle.setPrice(ETH, 2_000 * ONE, sender=admin)
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    core.vault.listCollateral(usdc, 10**12 * ONE, sender=admin)
    perp = deploy_perp(project, admin, core, oracle, treasury=admin, insurance_fund=admin, settlers=[admin])
    perp.registry.listMarket(
        ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(10**14, 10**15), sender=admin
    )
    funding = deploy_funding(project, admin, core.acl, perp.engine, perp.registry, markets={1: 2_000 * ONE})
    liq = deploy_liquidation(project, admin, core, perp, markets=[1], treasury=admin)
    for who, amount in ((alice, 1_100), (dave, 1_100), (bob, 1_000_000), (carol, 600)):
        usdc.mint(who, amount * USDC, sender=admin)
        usdc.approve(core.vault, 2**256 - 1, sender=who)
        core.vault.deposit(usdc, amount * USDC, sender=who)
    e = perp.engine
    e.applyFills([_fill(bob, alice, 10 * ONE, 2_000 * ONE, True)], sender=admin)
    e.applyFills([_fill(bob, dave, 5 * ONE, 2_000 * ONE, True)], sender=admin)
    e.applyFills([_fill(carol, dave, 5 * ONE, 2_000 * ONE, True)], sender=admin)

    results: list[tuple[str, int]] = []
    funding.postContractPrice(1, 2_004 * ONE, sender=admin)
    chain.pending_timestamp += 8 * 3600
    tx = funding.postContractPrice(1, 2_006 * ONE, sender=admin)
    results.append(("funding.post_contract_price", tx.gas_used))
    chain.pending_timestamp += 60
    tx = funding.updateFunding(1, sender=admin)
    results.append(("funding.update intervals=1", tx.gas_used))

    oracle.setPrice(ETH, 1_800 * ONE, sender=admin)
    tx = liq.module.flag(alice, usdc, sender=admin)
    results.append(("liquidation.flag positions=1", tx.gas_used))
    liq.module.flag(dave, usdc, sender=admin)
    chain.pending_timestamp += 30
    # the fund is empty: dave's deficit cannot be covered, so ADL closes him against the top short
    cands = sorted([(str(bob), 0), (str(carol), 0)], key=lambda c: int(c[0], 16))
    scores = [liq.adl.adlScore(a, 1, 0) for a, _ in cands]
    tx = liq.adl.adl(dave, 1, 0, cands, scores.index(max(scores)), sender=admin)
    results.append(("liquidation.adl_step candidates=2", tx.gas_used))
    usdc.mint(admin, 50_000 * USDC, sender=admin)
    usdc.approve(core.vault, 2**256 - 1, sender=admin)
    core.vault.depositFor(liq.fund, usdc, 50_000 * USDC, sender=admin)
    tx = liq.module.forceClose(alice, 1, 0, sender=admin)
    results.append(("liquidation.force_close full+bad_debt", tx.gas_used))
    return results
