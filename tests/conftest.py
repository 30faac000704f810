"""Shared fixtures: accounts by role, the core deployment and collateral tokens.

Deployments are session-scoped; ape snapshots and reverts the chain around every test,
so each test starts from the same state.
"""

from __future__ import annotations

import os

import pytest
import revert_traces
from hypothesis import HealthCheck, settings

from offchain import roles
from offchain.deploy import CoreDeployment, RoleHolders, deploy_core

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=20, stateful_step_count=25, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=200, stateful_step_count=50, **_COMMON)
settings.register_profile("dev", max_examples=5, stateful_step_count=10, derandomize=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    revert_traces.install()  # expected reverts skip ape-foundry's call-trace printing (see the module)


USDC_CAP_X18 = 10**9 * 10**18  # 1bn USDC


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def operator(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def compliance_officer(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def ledger(accounts):
    """An account standing in for a protocol module (engine/settlement) holding the LEDGER role."""
    return accounts[8]


@pytest.fixture(scope="session")
def stranger(accounts):
    """An account with no role and no allowlist entry."""
    return accounts[9]


@pytest.fixture(scope="session")
def core(project, admin, operator, keeper, guardian, compliance_officer, ledger) -> CoreDeployment:
    deployment = deploy_core(
        project,
        admin,
        RoleHolders(operators=[operator], keepers=[keeper], guardians=[guardian], compliance=[compliance_officer]),
        allowlist_enforced=True,
    )
    deployment.acl.grantRole(roles.LEDGER, ledger, sender=admin)
    return deployment


@pytest.fixture(scope="session")
def acl(core):
    return core.acl


@pytest.fixture(scope="session")
def compliance(core):
    return core.compliance


@pytest.fixture(scope="session")
def vault(core):
    return core.vault


@pytest.fixture(scope="session")
def usdc(project, admin, vault):
    token = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    vault.listCollateral(token, USDC_CAP_X18, sender=admin)
    return token


@pytest.fixture(scope="session")
def weth(project, admin, vault):
    token = project.MockERC20.deploy("Wrapped Ether", "WETH", 18, sender=admin)
    vault.listCollateral(token, 10**30, sender=admin)
    return token


@pytest.fixture(scope="session")
def far_future(chain) -> int:
    return chain.pending_timestamp + 10 * 365 * 86400


@pytest.fixture(scope="session")
def traders(compliance, compliance_officer, alice, bob, carol, far_future):
    """alice, bob and carol allowlisted at tier 1."""
    for trader in (alice, bob, carol):
        compliance.setAllowed(trader, 1, far_future, sender=compliance_officer)
    return alice, bob, carol
