"""Liquidation fixtures: mock oracle, engine with a linear and an inverse market (zero trading fees so
amounts are exact), insurance fund and liquidation module.

Candidates for promotion: ``l_stack`` (engine + insurance fund + liquidation and ADL modules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from liq_helpers import ETH, INVERSE, LINEAR, USDC, trade

from offchain.liquidation.deploy import deploy_liquidation
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE

TREASURY = "0x00000000000000000000000000000000000000A1"


@dataclass
class Stack:
    oracle: Any
    engine: Any
    registry: Any
    fund: Any
    liq: Any
    usdc: Any
    adl: Any


@pytest.fixture(scope="session")
def l_stack(project, admin, core, operator, usdc, weth, compliance, compliance_officer, far_future) -> Stack:
    oracle = project.MockPriceOracle.deploy(sender=admin)
    oracle.setPrice(ETH, 2_000 * ONE, sender=admin)
    perp = deploy_perp(project, admin, core, oracle, treasury=TREASURY, insurance_fund=TREASURY, settlers=[operator])
    perp.fees.setTiers([[i, 0, 0] for i in range(6)], sender=admin)
    perp.registry.listMarket(
        ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(10**14, 10**15), sender=admin
    )
    perp.registry.listMarket(ETH, weth, 1, risk_params(20, 2 * ONE // 100), trading_params(10**14, ONE), sender=admin)
    dep = deploy_liquidation(project, admin, core, perp, markets=[LINEAR, INVERSE], treasury=TREASURY)
    compliance.setAllowed(dep.fund, 1, far_future, sender=compliance_officer)
    return Stack(oracle, perp.engine, perp.registry, dep.fund, dep.module, usdc, dep.adl)


@pytest.fixture(scope="module")
def l_funded(traders, vault, usdc, weth):
    """alice, bob, carol with USDC and WETH approved to the Vault (nothing deposited)."""
    for t in traders:
        usdc.mint(t, 10**7 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
        weth.mint(t, 1_000 * ONE, sender=t)
        weth.approve(vault, 2**256 - 1, sender=t)
    return traders


@pytest.fixture
def book_start(chain) -> int:
    """The first block of the ``book`` fixture's transactions (where a keeper starts mirroring)."""
    return chain.blocks.head.number + 1


@pytest.fixture
def book(
    book_start, l_stack, l_funded, accounts, vault, usdc, operator, admin, compliance, compliance_officer, far_future
):
    """Three longs at the same leverage (alice 10, carol 5, dave 2 ETH), one low-leverage long (eve)
    and bob, the short market maker with 1m USDC."""
    alice, bob, carol = l_funded
    dave, eve = accounts[8], accounts[9]
    for t in (dave, eve):
        compliance.setAllowed(t, 1, far_future, sender=compliance_officer)
        usdc.mint(t, 10**6 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
    usdc.mint(admin, 50_000 * USDC, sender=admin)
    usdc.approve(vault, 2**256 - 1, sender=admin)
    vault.depositFor(l_stack.fund, usdc, 50_000 * USDC, sender=admin)
    vault.deposit(usdc, 1_000_000 * USDC, sender=bob)
    e = l_stack.engine
    for who, size, margin in ((alice, 10, 1_100), (carol, 5, 550), (dave, 2, 220), (eve, 1, 1_000)):
        vault.deposit(usdc, margin * USDC, sender=who)
        trade(e, operator, LINEAR, bob, who, size * ONE, 2_000 * ONE)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "eve": eve}
