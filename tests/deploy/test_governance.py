"""After deploy_protocol the timelock holds Roles.ADMIN and the deployer nothing; a parameter change goes
queue -> (early execute reverts) -> wait the delay -> execute."""

from __future__ import annotations

import pytest
from ape.exceptions import ContractLogicError
from deploy_helpers import CONFIG

from offchain import roles
from offchain.deployment import governance as gov
from offchain.deployment.network import load_network_config
from offchain.deployment.runner import deploy_protocol


@pytest.fixture(scope="module")
def deployment(project, accounts, chain, tmp_path_factory):
    config = load_network_config(CONFIG, chain.chain_id, accounts)
    record = tmp_path_factory.mktemp("gov") / "ethereum-local.json"
    return deploy_protocol(
        project,
        accounts[0],
        config,
        record,
        provider=chain.provider,
        ecosystem="ethereum",
        network="local",
        log=lambda _: None,
    )


def test_deployer_keeps_no_role_and_the_timelock_holds_admin(deployment, accounts):
    acl, timelock, deployer = deployment.acl, deployment.timelock, accounts[0]
    assert acl.hasRole(roles.ADMIN, timelock)
    for name, role in roles.ALL.items():
        assert not acl.hasRole(role, deployer), name
    for role in ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"):
        assert not timelock.hasRole(getattr(timelock, role)(), deployer), role
    # the timelock administers itself: nobody else holds its admin role
    assert timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), timelock)
    council = accounts[5]
    assert timelock.hasRole(timelock.PROPOSER_ROLE(), council)
    # the old admin can no longer change a parameter directly
    with pytest.raises(ContractLogicError):
        deployment.funding.setPermissionlessDelay(7200, sender=deployer)


def test_parameter_change_waits_for_the_timelock(deployment, accounts, chain):
    council, funding, timelock = accounts[5], deployment.funding, deployment.timelock
    before = funding.permissionlessDelay()
    proposal = gov.proposal_for(funding, "setPermissionlessDelay", [before + 3600], "raise the keeper-only window")
    assert gov.status(timelock, proposal) == "unknown"
    with pytest.raises(ContractLogicError):
        gov.queue(timelock, proposal, accounts[6])  # not a proposer
    gov.queue(timelock, proposal, council)
    assert gov.status(timelock, proposal) == "waiting"
    with pytest.raises(ContractLogicError):
        gov.execute(timelock, proposal, council)  # too early
    assert funding.permissionlessDelay() == before
    chain.mine(timestamp=gov.ready_at(timelock, proposal))
    assert gov.status(timelock, proposal) == "ready"
    gov.execute(timelock, proposal, council)
    assert funding.permissionlessDelay() == before + 3600
    assert gov.status(timelock, proposal) == "done"
