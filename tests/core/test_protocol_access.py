"""ProtocolAccess: one role registry shared by every module; role ids match offchain.roles."""

from __future__ import annotations

import ape
import pytest
from helpers import assert_deploy_reverts

from offchain import roles

ZERO = "0x0000000000000000000000000000000000000000"


def test_zero_admin_rejected(project, admin):
    assert_deploy_reverts(project.ProtocolAccess, "ProtocolAccessZeroAdmin()", ZERO, sender=admin)


def test_deployment_grants_roles(acl, admin, operator, keeper, guardian, compliance_officer, ledger, stranger):
    expected = {
        roles.ADMIN: admin,
        roles.OPERATOR: operator,
        roles.KEEPER: keeper,
        roles.GUARDIAN: guardian,
        roles.COMPLIANCE: compliance_officer,
        roles.LEDGER: ledger,
    }
    for role, holder in expected.items():
        assert acl.hasRole(role, holder)
        assert not acl.hasRole(role, stranger)
        assert acl.getRoleAdmin(role) == roles.ADMIN


def test_grant_in_registry_applies_to_every_module(acl, admin, vault, compliance, stranger, alice, chain):
    """A role granted once in ProtocolAccess is honoured by every module that consults it."""
    with ape.reverts(vault.AccessControlUnauthorizedAccount):
        vault.pauseDeposits(sender=stranger)
    acl.grantRole(roles.GUARDIAN, stranger, sender=admin)
    vault.pauseDeposits(sender=stranger)
    acl.grantRole(roles.COMPLIANCE, stranger, sender=admin)
    compliance.setAllowed(alice, 1, chain.pending_timestamp + 100, sender=stranger)
    acl.revokeRole(roles.COMPLIANCE, stranger, sender=admin)
    with ape.reverts(compliance.AccessControlUnauthorizedAccount, account=stranger.address, role=roles.COMPLIANCE):
        compliance.setBlocked(alice, True, sender=stranger)


def test_only_admin_grants(acl, guardian, stranger):
    with ape.reverts(acl.AccessControlUnauthorizedAccount, account=guardian.address, role=roles.ADMIN):
        acl.grantRole(roles.KEEPER, stranger, sender=guardian)


def test_role_ids_match_solidity(project, admin):
    """offchain.roles must hash the same names as contracts/access/Roles.sol."""
    source = (project.path / "contracts" / "access" / "Roles.sol").read_text()
    for name, role in roles.ALL.items():
        if name == "ADMIN":
            assert "ADMIN = 0x00;" in source
        else:
            assert f'{name} = keccak256("perpx.role.{name}")' in source
            assert role == roles.role_id(name.lower())


def test_deploy_revert_helper_can_fail(project, admin):
    """The helper rejects the wrong error and a deployment that succeeds."""
    with pytest.raises(AssertionError, match="expected SomethingElse"):
        assert_deploy_reverts(project.ProtocolAccess, "SomethingElse()", ZERO, sender=admin)
    with pytest.raises(AssertionError, match="did not revert"):
        assert_deploy_reverts(project.ProtocolAccess, "ProtocolAccessZeroAdmin()", admin, sender=admin)
