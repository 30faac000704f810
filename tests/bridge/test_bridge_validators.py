"""Validator set: 0 < M <= N always, rotation by quorum + time lock, epoch only increases, retired
approvals cannot be finalised (SECURITY 29, 32, B4, B8, B12)."""

import ape
import pytest

from bridge.helpers import DELAY_BLOCKS, DELAY_SECONDS, DELAY_THRESHOLD, USDC_UNIT, make_validators, sign_with
from offchain.bridge.messages import ordered_signatures, sign_rotation, sorted_addresses


def _approve(chain, bridge, signers, new_set, threshold, epoch):
    sigs = {v.address: sign_rotation(v.key, new_set, threshold, epoch, chain.chain_id, bridge.address) for v in signers}
    return ordered_signatures(sigs)


def _wait(chain):
    chain.mine(DELAY_BLOCKS)
    chain.pending_timestamp += DELAY_SECONDS


@pytest.fixture
def new_keys(validator_keys):
    """Target set: validators 2..6 (two retired, two new), 3-of-5 again... as 4-of-5."""
    return validator_keys[2:7]


def _rotate(chain, bridge, validator_keys, new_keys, stranger, threshold=4, epoch=1):
    new_set = sorted_addresses([v.address for v in new_keys])
    bridge.proposeRotation(
        new_set,
        threshold,
        epoch,
        _approve(chain, bridge, validator_keys[:3], new_set, threshold, epoch),
        sender=stranger,
    )
    _wait(chain)
    return bridge.finalizeRotation(sender=stranger), new_set


@pytest.mark.parametrize(("size", "threshold"), [(0, 0), (3, 0), (3, 4), (33, 17)])
def test_constructor_refuses_bad_threshold(project, admin, acl, compliance, size, threshold):
    vals = sorted_addresses([v.address for v in make_validators(size, "ctor")]) if size else []
    with ape.reverts(project.Bridge.BridgeValidatorSetInvalidThreshold, threshold=threshold, size=size):
        project.Bridge.deploy(acl, compliance, vals, threshold, 1, 1, 1, sender=admin)


def test_constructor_refuses_unsorted_zero_or_duplicate(project, admin, acl, compliance):
    vals = sorted_addresses([v.address for v in make_validators(3, "ctor")])
    for bad in ([vals[1], vals[0], vals[2]], [vals[0], vals[0], vals[1]], [ape.utils.ZERO_ADDRESS, *vals[:2]]):
        with ape.reverts(project.Bridge.BridgeValidatorSetInvalidMember):
            project.Bridge.deploy(acl, compliance, bad, 2, 1, 1, 1, sender=admin)


def test_initial_state_and_no_initializer(project, bridge, validator_keys):
    assert bridge.epoch() == 0
    assert bridge.threshold() == 3
    assert bridge.validators() == sorted_addresses([v.address for v in validator_keys[:5]])
    assert all(bridge.isValidator(v.address) for v in validator_keys[:5])
    assert not bridge.isValidator(validator_keys[5].address)
    names = {abi.name for abi in project.Bridge.contract_type.abi if getattr(abi, "name", None)}
    assert not {n for n in names if n.lower().startswith(("init", "upgrade"))}


def test_rotation_takes_effect_after_timelock(chain, bridge, escrow, inbound, validator_keys, new_keys, stranger):
    escrow(10_000 * USDC_UNIT)
    new_set = sorted_addresses([v.address for v in new_keys])
    tx = bridge.proposeRotation(
        new_set, 4, 1, _approve(chain, bridge, validator_keys[:3], new_set, 4, 1), sender=stranger
    )
    [log] = tx.events.filter(bridge.ValidatorSetProposed)
    assert (log.epoch, log.validators, log.threshold) == (1, new_set, 4)
    assert (log.readyAt, log.readyBlock) == (tx.timestamp + DELAY_SECONDS, tx.block_number + DELAY_BLOCKS)
    assert bridge.pendingRotation().epoch == 1
    with ape.reverts(bridge.BridgeValidatorSetRotationNotReady, readyAt=log.readyAt, readyBlock=log.readyBlock):
        bridge.finalizeRotation(sender=stranger)
    # Old set still rules until then.
    t = inbound()
    bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    _wait(chain)
    fin = bridge.finalizeRotation(sender=stranger)
    [rot] = fin.events.filter(bridge.ValidatorSetRotated)
    assert (rot.epoch, rot.validators, rot.threshold) == (1, new_set, 4)
    assert (bridge.epoch(), bridge.threshold(), bridge.validators()) == (1, 4, new_set)
    assert bridge.pendingRotation().epoch == 0
    retired = validator_keys[0]
    assert not bridge.isValidator(retired.address)
    t2 = inbound()
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner, epoch=1):
        bridge.requestRelease(t2.as_tuple(), sign_with(t2, bridge, validator_keys[:4]), sender=stranger)
    with ape.reverts(bridge.BridgeValidatorSetInsufficientSignatures, supplied=3, threshold=4):
        bridge.requestRelease(t2.as_tuple(), sign_with(t2, bridge, new_keys[:3]), sender=stranger)
    bridge.requestRelease(t2.as_tuple(), sign_with(t2, bridge, new_keys[:4]), sender=stranger)
    with ape.reverts(bridge.BridgeValidatorSetNoPendingRotation):
        bridge.finalizeRotation(sender=stranger)


def test_rotation_needs_current_quorum(chain, bridge, validator_keys, new_keys, stranger):
    new_set = sorted_addresses([v.address for v in new_keys])
    with ape.reverts(bridge.BridgeValidatorSetInsufficientSignatures):
        bridge.proposeRotation(
            new_set, 3, 1, _approve(chain, bridge, validator_keys[:2], new_set, 3, 1), sender=stranger
        )
    # The new members cannot approve themselves.
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner):
        bridge.proposeRotation(
            new_set,
            3,
            1,
            _approve(chain, bridge, validator_keys[5:7] + validator_keys[:1], new_set, 3, 1),
            sender=stranger,
        )
    # Signatures for other parameters do not carry over.
    sigs = _approve(chain, bridge, validator_keys[:3], new_set, 3, 1)
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner):
        bridge.proposeRotation(new_set, 1, 1, sigs, sender=stranger)


@pytest.mark.parametrize(("threshold", "size"), [(0, 5), (6, 5), (1, 0)])
def test_rotation_refuses_bad_threshold(chain, bridge, validator_keys, stranger, threshold, size):
    new_set = sorted_addresses([v.address for v in validator_keys[:size]])
    with ape.reverts(bridge.BridgeValidatorSetInvalidThreshold, threshold=threshold, size=size):
        bridge.proposeRotation(
            new_set, threshold, 1, _approve(chain, bridge, validator_keys[:3], new_set, threshold, 1), sender=stranger
        )


def test_rotation_refuses_duplicates(chain, bridge, validator_keys, stranger):
    a = sorted_addresses([v.address for v in validator_keys[:2]])
    new_set = [a[0], a[0], a[1]]
    with ape.reverts(bridge.BridgeValidatorSetInvalidMember, index=1, validator=a[0]):
        bridge.proposeRotation(
            new_set, 2, 1, _approve(chain, bridge, validator_keys[:3], new_set, 2, 1), sender=stranger
        )


def test_epoch_only_increases(chain, bridge, validator_keys, new_keys, stranger):
    _rotate(chain, bridge, validator_keys, new_keys, stranger, threshold=3, epoch=5)
    assert bridge.epoch() == 5
    old = sorted_addresses([v.address for v in validator_keys[:5]])
    for stale in (5, 4, 0):
        with ape.reverts(bridge.BridgeValidatorSetStaleEpoch, proposed=stale, floor=5):
            bridge.proposeRotation(old, 3, stale, _approve(chain, bridge, new_keys[:3], old, 3, stale), sender=stranger)
    bridge.proposeRotation(old, 3, 7, _approve(chain, bridge, new_keys[:3], old, 3, 7), sender=stranger)
    # A pending rotation raises the floor: no replay of an older approval over it.
    with ape.reverts(bridge.BridgeValidatorSetStaleEpoch, proposed=6, floor=7):
        bridge.proposeRotation(old, 3, 6, _approve(chain, bridge, new_keys[:3], old, 3, 6), sender=stranger)


def test_guardian_cancels_rotation(chain, bridge, validator_keys, new_keys, stranger, guardian, admin):
    new_set = sorted_addresses([v.address for v in new_keys])
    bridge.proposeRotation(new_set, 3, 1, _approve(chain, bridge, validator_keys[:3], new_set, 3, 1), sender=stranger)
    for who in (stranger, admin):
        with ape.reverts(bridge.AccessControlUnauthorizedAccount):
            bridge.cancelRotation(sender=who)
    tx = bridge.cancelRotation(sender=guardian)
    [log] = tx.events.filter(bridge.ValidatorSetRotationCancelled)
    assert (log.epoch, log.guardian) == (1, guardian.address)
    _wait(chain)
    with ape.reverts(bridge.BridgeValidatorSetNoPendingRotation):
        bridge.finalizeRotation(sender=stranger)
    with ape.reverts(bridge.BridgeValidatorSetNoPendingRotation):
        bridge.cancelRotation(sender=guardian)
    assert bridge.epoch() == 0


def test_pending_release_of_retired_set_must_be_reapproved(
    chain, bridge, btoken, escrow, inbound, validator_keys, new_keys, stranger, bob
):
    escrow(50_000 * USDC_UNIT)
    t = inbound(amount=DELAY_THRESHOLD + 1)
    old_sigs = sign_with(t, bridge, validator_keys[:3])
    bridge.requestRelease(t.as_tuple(), old_sigs, sender=stranger)
    _rotate(chain, bridge, validator_keys, new_keys, stranger)
    with ape.reverts(bridge.BridgeApprovalRetired, id=t.transfer_id, approvedEpoch=0, currentEpoch=1):
        bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    with ape.reverts(bridge.BridgeValidatorSetInsufficientSignatures):
        bridge.requestRelease(t.as_tuple(), old_sigs, sender=stranger)
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner, epoch=1):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:4]), sender=stranger)
    tx = bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, new_keys[:4]), sender=stranger)
    assert tx.events.filter(bridge.ReleaseQueued)[0].epoch == 1
    _wait(chain)
    before = btoken.balanceOf(bob)
    bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    assert btoken.balanceOf(bob) == before + t.amount


def test_rotation_works_while_paused(chain, bridge, validator_keys, new_keys, stranger, guardian):
    bridge.pause(sender=guardian)
    _rotate(chain, bridge, validator_keys, new_keys, stranger)
    assert bridge.epoch() == 1
