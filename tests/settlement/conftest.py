"""Settlement fixtures: mock oracle, perpetual engine with two markets, Settlement, funded traders.

Candidates for promotion to tests/conftest.py: ``settlement`` (deploy_settlement on top of ``perp``).
"""

from __future__ import annotations

import pytest
from settle_helpers import BTC, ETH, INSURANCE, LOT, ONE, TICK, TREASURY, USDC, Signer

from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.settlement.deploy import deploy_settlement, domain_of


@pytest.fixture(scope="session")
def oracle(project, admin):
    o = project.MockPriceOracle.deploy(sender=admin)
    o.setPrice(ETH, 2_000 * ONE, sender=admin)
    o.setPrice(BTC, 50_000 * ONE, sender=admin)
    return o


@pytest.fixture(scope="session")
def perp(project, admin, core, oracle):
    return deploy_perp(project, admin, core, oracle, treasury=TREASURY, insurance_fund=INSURANCE)


@pytest.fixture(scope="session")
def markets(perp, admin, usdc):
    """Market 1: ETH linear 20x; market 2: BTC linear 50x (both USDC)."""
    perp.registry.listMarket(ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(TICK, LOT), sender=admin)
    perp.registry.listMarket(BTC, usdc, 0, risk_params(50, ONE // 100), trading_params(TICK, LOT), sender=admin)
    return {"eth": 1, "btc": 2}


@pytest.fixture(scope="session")
def settlement(project, admin, core, perp, markets):
    return deploy_settlement(project, admin, core, perp)


@pytest.fixture(scope="session")
def domain(settlement, chain):
    return domain_of(settlement, chain.chain_id)


@pytest.fixture(scope="session")
def signer(domain):
    return Signer(domain)


@pytest.fixture(scope="module")
def funded(traders, vault, usdc, settlement):
    """alice, bob, carol allowlisted, each with 100k USDC in the Vault (module scope: ape reverts it after the
    module, so the deposits do not leak into other directories' tests on the shared Vault)."""
    for t in traders:
        usdc.mint(t, 100_000 * USDC, sender=t)
        usdc.approve(vault, 2**256 - 1, sender=t)
        vault.deposit(usdc, 100_000 * USDC, sender=t)
    return traders


@pytest.fixture(autouse=True)
def _fresh_block(chain):
    """Start every test on a fresh block. Observed on EthTester: after the property test's isolated examples
    (some with reverting batches), later tests failed with "Transaction exceeds gas limit" because the
    pending block already carried gas; mining a block first avoids it (cause not fully diagnosed)."""
    chain.mine()
