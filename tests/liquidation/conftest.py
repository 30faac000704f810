"""Liquidation fixtures: mock oracle, engine with a linear and an inverse market (zero trading fees so
amounts are exact), insurance fund and liquidation module.

Candidates for promotion: ``l_stack`` (engine + insurance fund + liquidation module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils import keccak

from offchain.liquidation.deploy import deploy_liquidation
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE

ETH = keccak(text="ETH")
TREASURY = "0x00000000000000000000000000000000000000A1"
USDC = 10**6
LINEAR = 1
INVERSE = 2


@dataclass
class Stack:
    oracle: Any
    engine: Any
    registry: Any
    fund: Any
    liq: Any
    usdc: Any


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
    return Stack(oracle, perp.engine, perp.registry, dep.fund, dep.module, usdc)


@pytest.fixture(scope="session")
def l_funded(traders, vault, usdc, weth):
    """alice, bob, carol with USDC and WETH approved to the Vault (nothing deposited)."""
    for t in traders:
        usdc.mint(t, 10**7 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
        weth.mint(t, 1_000 * ONE, sender=t)
        weth.approve(vault, 2**256 - 1, sender=t)
    return traders
