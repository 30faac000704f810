"""Perpetual engine fixtures: mock oracle, registry, fee schedule, engine and three markets.

Candidates for promotion to tests/conftest.py: ``oracle`` and ``perp`` (once the real oracle lands,
``oracle`` should become the MockPriceOracle only for engine tests).
"""

from __future__ import annotations

import pytest
from perp_helpers import BTC, ETH, INSURANCE, INV_LOT, LOT, TICK, TREASURY

from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.perp.math import ONE


@pytest.fixture(scope="session")
def oracle(project, admin):
    o = project.MockPriceOracle.deploy(sender=admin)
    o.setPrice(ETH, 2_000 * ONE, sender=admin)
    o.setPrice(BTC, 50_000 * ONE, sender=admin)
    return o


@pytest.fixture(scope="session")
def perp(project, admin, core, oracle, operator, keeper):
    return deploy_perp(
        project, admin, core, oracle, treasury=TREASURY, insurance_fund=INSURANCE, settlers=[operator], funders=[keeper]
    )


@pytest.fixture(scope="session")
def engine(perp):
    return perp.engine


@pytest.fixture(scope="session")
def registry(perp):
    return perp.registry


@pytest.fixture(scope="session")
def fees(perp):
    return perp.fees


@pytest.fixture(scope="session")
def markets(perp, admin, usdc, weth):
    """Market ids: eth20 (linear 20x, USDC), btc50 (linear 50x, USDC), inv20 (inverse ETH/USD 20x, WETH)."""
    reg = perp.registry
    reg.listMarket(ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(TICK, LOT), sender=admin)
    reg.listMarket(BTC, usdc, 0, risk_params(50, ONE // 100), trading_params(TICK, LOT), sender=admin)
    reg.listMarket(ETH, weth, 1, risk_params(20, 2 * ONE // 100), trading_params(TICK, INV_LOT), sender=admin)
    return {"eth20": 1, "btc50": 2, "inv20": 3}


@pytest.fixture(scope="module")
def funded(traders, vault, usdc, weth):
    """alice, bob, carol with 1m USDC and 1000 WETH approved to the Vault (nothing deposited)."""
    for t in traders:
        usdc.mint(t, 10**6 * 10**6, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
        weth.mint(t, 1_000 * ONE, sender=t)
        weth.approve(vault, 2**256 - 1, sender=t)
    return traders


@pytest.fixture
def zero_fees(fees, admin):
    fees.setTiers([[i, 0, 0] for i in range(6)], sender=admin)
