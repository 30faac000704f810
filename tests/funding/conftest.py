"""Funding module fixtures: mock oracle, the perpetual engine with two markets, and the module.

Candidates for promotion: the ``perp_stack`` deployment (shared with tests/liquidation).
"""

from __future__ import annotations

import pytest
from funding_helpers import ETH, INVERSE, LINEAR

from offchain.funding.deploy import FundingConfig, deploy_funding
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE

TREASURY = "0x00000000000000000000000000000000000000A1"
INSURANCE = "0x00000000000000000000000000000000000000A2"
USDC = 10**6


@pytest.fixture(scope="session")
def f_oracle(project, admin):
    o = project.MockPriceOracle.deploy(sender=admin)
    o.setPrice(ETH, 2_000 * ONE, sender=admin)
    return o


@pytest.fixture(scope="session")
def f_perp(project, admin, core, f_oracle, operator, usdc, weth):
    p = deploy_perp(project, admin, core, f_oracle, treasury=TREASURY, insurance_fund=INSURANCE, settlers=[operator])
    p.registry.listMarket(ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(10**14, 10**15), sender=admin)
    p.registry.listMarket(ETH, weth, 1, risk_params(20, 2 * ONE // 100), trading_params(10**14, ONE), sender=admin)
    return p


@pytest.fixture(scope="session")
def cfg() -> FundingConfig:
    return FundingConfig()


@pytest.fixture(scope="session")
def funding(project, admin, acl, f_perp, cfg):
    return deploy_funding(
        project,
        admin,
        acl,
        f_perp.engine,
        f_perp.registry,
        markets={LINEAR: 2_000 * ONE, INVERSE: 2_000 * ONE},
        config=cfg,
    )


@pytest.fixture(scope="session")
def f_engine(f_perp):
    return f_perp.engine


@pytest.fixture
def f_funded(traders, vault, usdc, weth):
    """Function-scoped on purpose: deposits must not leak into other test directories' session state."""
    for t in traders:
        usdc.mint(t, 10**6 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
        vault.deposit(usdc, 100_000 * USDC, sender=t)
        weth.mint(t, 1_000 * ONE, sender=t)
        weth.approve(vault, 2**256 - 1, sender=t)
        vault.deposit(weth, 10 * ONE, sender=t)
    return traders
