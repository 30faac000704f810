"""ComplianceRegistry: allowlist with tier and expiry, blocklist, enforcement switch, roles, events."""

from __future__ import annotations

import ape
import pytest
from helpers import assert_event

from offchain import roles

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def compliance(project, acl, admin):
    """A fresh registry per test: session fixtures elsewhere in the suite allowlist the shared traders."""
    return project.ComplianceRegistry.deploy(acl, True, sender=admin)


@pytest.fixture
def soon(chain) -> int:
    return chain.pending_timestamp + 1_000


def test_constructor_emits_and_sets_enforcement(project, admin, acl):
    registry = project.ComplianceRegistry.deploy(acl, False, sender=admin)
    assert registry.allowlistEnforced() is False
    logs = list(registry.AllowlistEnforcementSet.range(0, ape.chain.blocks.head.number + 1))
    assert [log.enforced for log in logs] == [False]
    with ape.reverts(project.ComplianceRegistry.AccessControlledZeroAcl):
        project.ComplianceRegistry.deploy(ZERO, True, sender=admin)


def test_set_allowed_lists_with_tier_and_expiry(compliance, compliance_officer, alice, soon):
    assert not compliance.isAllowed(alice)
    assert compliance.tierOf(alice) == 0
    receipt = compliance.setAllowed(alice, 3, soon, sender=compliance_officer)
    assert_event(receipt, compliance.AllowlistSet, account=alice.address, tier=3, expiry=soon)
    assert compliance.isAllowed(alice)
    assert compliance.tierOf(alice) == 3
    assert compliance.entries(alice) == (3, soon)


def test_entry_lapses_exactly_at_expiry(compliance, compliance_officer, alice, chain, soon):
    compliance.setAllowed(alice, 1, soon, sender=compliance_officer)
    chain.pending_timestamp = soon - 1
    chain.mine()
    assert compliance.isAllowed(alice)  # one second before expiry
    chain.pending_timestamp = soon
    chain.mine()
    assert not compliance.isAllowed(alice)  # at expiry the entry has lapsed
    assert compliance.tierOf(alice) == 0


def test_set_allowed_rejects_bad_input(compliance, compliance_officer, alice, chain, soon):
    with ape.reverts(compliance.ComplianceZeroAccount):
        compliance.setAllowed(ZERO, 1, soon, sender=compliance_officer)
    with ape.reverts(compliance.ComplianceInvalidTier, account=alice.address):
        compliance.setAllowed(alice, 0, soon, sender=compliance_officer)
    now = chain.pending_timestamp
    with ape.reverts(compliance.ComplianceExpiryNotInFuture, account=alice.address):
        compliance.setAllowed(alice, 1, now - 1, sender=compliance_officer)


def test_only_compliance_role_changes_lists(compliance, admin, guardian, alice, soon):
    for caller in (admin, guardian):
        with ape.reverts(compliance.AccessControlUnauthorizedAccount, account=caller.address, role=roles.COMPLIANCE):
            compliance.setAllowed(alice, 1, soon, sender=caller)
        with ape.reverts(compliance.AccessControlUnauthorizedAccount):
            compliance.setBlocked(alice, True, sender=caller)
        with ape.reverts(compliance.AccessControlUnauthorizedAccount):
            compliance.revoke(alice, sender=caller)
        with ape.reverts(compliance.AccessControlUnauthorizedAccount):
            compliance.setAllowedBatch([alice], [1], [soon], sender=caller)


def test_batch_sets_all_or_nothing(compliance, compliance_officer, alice, bob, carol, soon):
    receipt = compliance.setAllowedBatch([alice, bob], [1, 2], [soon, soon + 1], sender=compliance_officer)
    assert len(receipt.decode_logs(compliance.AllowlistSet)) == 2
    assert compliance.tierOf(bob) == 2
    with ape.reverts(compliance.ComplianceLengthMismatch):
        compliance.setAllowedBatch([alice, bob], [1], [soon, soon], sender=compliance_officer)
    with ape.reverts(compliance.ComplianceLengthMismatch):
        compliance.setAllowedBatch([alice], [1], [soon, soon], sender=compliance_officer)
    with ape.reverts(compliance.ComplianceInvalidTier, account=bob.address):
        compliance.setAllowedBatch([carol, bob], [1, 0], [soon, soon], sender=compliance_officer)
    assert not compliance.isAllowed(carol)  # the valid first entry was not kept


def test_revoke(compliance, compliance_officer, alice, soon):
    with ape.reverts(compliance.ComplianceNotListed, account=alice.address):
        compliance.revoke(alice, sender=compliance_officer)
    compliance.setAllowed(alice, 1, soon, sender=compliance_officer)
    assert_event(
        compliance.revoke(alice, sender=compliance_officer), compliance.AllowlistRevoked, account=alice.address
    )
    assert not compliance.isAllowed(alice)
    assert compliance.entries(alice) == (0, 0)


def test_blocklist_wins_over_allowlist(compliance, compliance_officer, alice, soon):
    compliance.setAllowed(alice, 5, soon, sender=compliance_officer)
    receipt = compliance.setBlocked(alice, True, sender=compliance_officer)
    assert_event(receipt, compliance.BlocklistSet, account=alice.address, isBlocked=True)
    assert compliance.isBlocked(alice)
    assert not compliance.isAllowed(alice)
    assert compliance.tierOf(alice) == 0
    assert_event(
        compliance.setBlocked(alice, False, sender=compliance_officer), compliance.BlocklistSet, isBlocked=False
    )
    assert compliance.isAllowed(alice)
    with ape.reverts(compliance.ComplianceZeroAccount):
        compliance.setBlocked(ZERO, True, sender=compliance_officer)


def test_enforcement_switch(compliance, compliance_officer, admin, alice, stranger, soon):
    assert compliance.allowlistEnforced()
    with ape.reverts(compliance.AccessControlUnauthorizedAccount, account=compliance_officer.address, role=roles.ADMIN):
        compliance.setAllowlistEnforced(False, sender=compliance_officer)
    assert_event(
        compliance.setAllowlistEnforced(False, sender=admin), compliance.AllowlistEnforcementSet, enforced=False
    )
    # Permissionless mode: anyone unblocked is allowed; only listed accounts carry a tier.
    assert compliance.isAllowed(stranger)
    assert compliance.tierOf(stranger) == 0
    compliance.setAllowed(alice, 2, soon, sender=compliance_officer)
    assert compliance.tierOf(alice) == 2
    compliance.setBlocked(stranger, True, sender=compliance_officer)
    assert not compliance.isAllowed(stranger)
    assert not compliance.isAllowed(ZERO)
