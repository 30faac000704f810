"""Destination side: M distinct current signers, exactly-once, bound to chain/contract/route
(SECURITY 29, 30, B1-B4, B7, B10)."""

from dataclasses import replace

import ape
import pytest

from bridge.helpers import (
    DELAY_THRESHOLD,
    REMOTE_CHAIN,
    USDC_UNIT,
    make_validators,
    malleate,
    sign_with,
    with_v,
)
from offchain.bridge.messages import ordered_signatures, sign_rotation, sign_typed, transfer_typed_data

ESCROW = 50_000 * USDC_UNIT


@pytest.fixture(autouse=True)
def _escrowed(escrow):
    escrow(ESCROW)


def test_release_with_quorum_delivers_and_emits(bridge, btoken, inbound, validator_keys, stranger, funded):
    _, bob, _ = funded
    t = inbound(amount=1_234 * USDC_UNIT)
    before = btoken.balanceOf(bob)
    tx = bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    assert btoken.balanceOf(bob) == before + t.amount
    [log] = tx.events.filter(bridge.Released)
    assert log.id == t.transfer_id
    assert (log.srcChainId, log.token, log.sender, log.recipient, log.amount) == (
        REMOTE_CHAIN,
        btoken.address,
        t.sender,
        t.recipient,
        t.amount,
    )
    assert bridge.releases(t.transfer_id).status == 2  # Executed
    assert bridge.routeTotals(REMOTE_CHAIN, btoken) == (ESCROW, t.amount)
    assert bridge.transferId(t.src_chain_id, t.src_bridge, t.nonce) == t.transfer_id


@pytest.mark.parametrize("count", [3, 4, 5])
def test_any_quorum_of_current_members_suffices(bridge, inbound, validator_keys, stranger, count):
    t = inbound()
    signers = validator_keys[5 - count : 5]
    bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, signers), sender=stranger)
    assert bridge.releases(t.transfer_id).status == 2


def test_digest_matches_python_signer(bridge, inbound, validator_keys):
    from eth_account.messages import encode_typed_data

    t = inbound()
    digest = bridge.transferDigest(t.as_tuple())
    signable = encode_typed_data(full_message=transfer_typed_data(t, bridge.address))
    from eth_utils import keccak

    assert digest == keccak(b"\x19\x01" + signable.header + signable.body)


def test_too_few_signatures(bridge, inbound, validator_keys, stranger):
    t = inbound()
    with ape.reverts(bridge.BridgeValidatorSetInsufficientSignatures, supplied=2, threshold=3):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:2]), sender=stranger)
    with ape.reverts(bridge.BridgeValidatorSetInsufficientSignatures, supplied=0, threshold=3):
        bridge.requestRelease(t.as_tuple(), [], sender=stranger)


def test_duplicate_signer_fails(bridge, inbound, validator_keys, stranger):
    t = inbound()
    sigs = sign_with(t, bridge, validator_keys[:2])
    dup = validator_keys[1].address
    with ape.reverts(bridge.BridgeValidatorSetSignerOrder, previous=dup, signer=dup):
        bridge.requestRelease(t.as_tuple(), [*sigs, sigs[1]], sender=stranger)


def test_malleated_copy_does_not_count_twice(bridge, inbound, validator_keys, stranger):
    t = inbound()
    sigs = sign_with(t, bridge, validator_keys[:2])
    with ape.reverts(bridge.BridgeValidatorSetInvalidSignature, index=2):
        bridge.requestRelease(t.as_tuple(), [*sigs, malleate(sigs[1])], sender=stranger)


def test_unsorted_signers_fail(bridge, inbound, validator_keys, stranger):
    t = inbound()
    sigs = sign_with(t, bridge, validator_keys[:3])
    with ape.reverts(bridge.BridgeValidatorSetSignerOrder):
        bridge.requestRelease(t.as_tuple(), list(reversed(sigs)), sender=stranger)


def test_non_member_signer_fails(bridge, inbound, validator_keys, stranger):
    t = inbound()
    outsider = validator_keys[5]  # generated but not in the initial set
    signers = sorted([*validator_keys[:2], outsider], key=lambda v: int(v.address, 16))
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner, signer=outsider.address, epoch=0):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, signers), sender=stranger)


@pytest.mark.parametrize("mutate", ["high_s", "v_zero", "v_29", "short", "zero_rs"])
def test_invalid_or_zero_signatures_fail(bridge, inbound, validator_keys, stranger, mutate):
    t = inbound()
    sigs = sign_with(t, bridge, validator_keys[:3])
    bad = {
        "high_s": malleate(sigs[0]),
        "v_zero": with_v(sigs[0], 0),
        "v_29": with_v(sigs[0], 29),
        "short": sigs[0][:64],
        "zero_rs": b"\x00" * 64 + b"\x1b",
    }[mutate]
    with ape.reverts(bridge.BridgeValidatorSetInvalidSignature, index=0):
        bridge.requestRelease(t.as_tuple(), [bad, *sigs[1:]], sender=stranger)


def test_message_executes_once(bridge, inbound, validator_keys, stranger, bob):
    t = inbound()
    sigs = sign_with(t, bridge, validator_keys[:3])
    bridge.requestRelease(t.as_tuple(), sigs, sender=stranger)
    with ape.reverts(bridge.BridgeAlreadyExecuted, id=t.transfer_id):
        bridge.requestRelease(t.as_tuple(), sigs, sender=stranger)
    # Same id (chain, bridge, nonce) with other fields and fresh valid signatures: still refused.
    t2 = replace(t, amount=t.amount + 1)
    with ape.reverts(bridge.BridgeAlreadyExecuted):
        bridge.requestRelease(t2.as_tuple(), sign_with(t2, bridge, validator_keys[:3]), sender=stranger)


@pytest.mark.parametrize("field", ["recipient", "amount", "token", "sender", "nonce", "src_chain_id"])
def test_tampered_fields_invalidate_signatures(bridge, inbound, validator_keys, stranger, carol, wtoken, field):
    t = inbound()
    sigs = sign_with(t, bridge, validator_keys[:3])
    changes = {
        "recipient": carol.address,
        "amount": t.amount * 10,
        "token": wtoken.address,
        "sender": carol.address,
        "nonce": t.nonce + 1,
        "src_chain_id": t.src_chain_id,
    }
    if field == "src_chain_id":
        # Re-registering the same source bridge under another chain id does not make the message valid there.
        t2 = replace(t, src_chain_id=REMOTE_CHAIN + 7)
        bridge.setRemoteBridge(REMOTE_CHAIN + 7, t.src_bridge, sender=ape.accounts.test_accounts[0])
    else:
        t2 = replace(t, **{field: changes[field]})
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner):
        bridge.requestRelease(t2.as_tuple(), sigs, sender=stranger)


def test_message_for_another_destination_chain_fails(bridge, inbound, validator_keys, stranger):
    t = inbound(dst_chain_id=REMOTE_CHAIN + 1)
    with ape.reverts(bridge.BridgeWrongDestination, dstChainId=REMOTE_CHAIN + 1):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)


def test_signatures_for_another_domain_fail(bridge, inbound, validator_keys, stranger, carol):
    t = inbound()
    other_contract = [sign_typed(v.key, transfer_typed_data(t, carol.address)) for v in validator_keys[:3]]
    other_chain = [
        sign_typed(v.key, transfer_typed_data(t, bridge.address, domain_chain_id=1)) for v in validator_keys[:3]
    ]
    for forged in (other_contract, other_chain):
        sigs = ordered_signatures(dict(zip([v.address for v in validator_keys[:3]], forged, strict=True)))
        with ape.reverts(bridge.BridgeValidatorSetUnknownSigner):
            bridge.requestRelease(t.as_tuple(), sigs, sender=stranger)


def test_rotation_approval_cannot_pass_as_transfer(bridge, chain, inbound, validator_keys, stranger):
    t = inbound()
    sigs = [sign_rotation(v.key, [v.address], 1, 1, chain.chain_id, bridge.address) for v in validator_keys[:3]]
    with ape.reverts(bridge.BridgeValidatorSetUnknownSigner):
        bridge.requestRelease(t.as_tuple(), sigs, sender=stranger)


def test_unknown_source_bridge_fails(bridge, inbound, validator_keys, stranger, carol):
    t = inbound(src_bridge=carol.address)
    with ape.reverts(bridge.BridgeUnknownSource, srcChainId=REMOTE_CHAIN, srcBridge=carol.address):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    t = inbound(src_chain_id=999)
    with ape.reverts(bridge.BridgeUnknownSource):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)


def test_release_never_exceeds_locked_on_route(bridge, btoken, inbound, validator_keys, stranger):
    first = inbound(amount=DELAY_THRESHOLD)
    bridge.requestRelease(first.as_tuple(), sign_with(first, bridge, validator_keys[:3]), sender=stranger)
    # ESCROW - DELAY_THRESHOLD is left on the route; ask for 1 more than that in small pieces.
    left = ESCROW - DELAY_THRESHOLD
    pieces = [DELAY_THRESHOLD] * (left // DELAY_THRESHOLD)
    for amount in pieces:
        t = inbound(amount=amount)
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    assert bridge.routeTotals(REMOTE_CHAIN, btoken) == (ESCROW, ESCROW)
    t = inbound(amount=1)
    with ape.reverts(bridge.BridgeReleaseExceedsLocked, srcChainId=REMOTE_CHAIN, released=ESCROW + 1, locked=ESCROW):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)


def test_wrapped_release_mints(bridge, wtoken, inbound, validator_keys, stranger, bob):
    t = inbound(token=wtoken.address, amount=7 * 10**18)
    bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    assert wtoken.balanceOf(bob) == 7 * 10**18
    assert bridge.routeTotals(REMOTE_CHAIN, wtoken) == (0, 7 * 10**18)


def test_only_bridge_mints_or_burns_wrapped(wtoken, stranger, bob):
    with ape.reverts(wtoken.BridgedTokenOnlyBridge, caller=stranger.address):
        wtoken.mint(stranger, 1, sender=stranger)
    with ape.reverts(wtoken.BridgedTokenOnlyBridge):
        wtoken.burn(bob, 1, sender=stranger)


def test_compliance_checked_at_release_and_retryable(
    bridge, btoken, inbound, validator_keys, stranger, compliance, compliance_officer, far_future, alice
):
    t = inbound(recipient=stranger.address)
    sigs = sign_with(t, bridge, validator_keys[:3])
    with ape.reverts(bridge.BridgeRecipientNotAllowed, recipient=stranger.address):
        bridge.requestRelease(t.as_tuple(), sigs, sender=alice)
    compliance.setAllowed(stranger, 1, far_future, sender=compliance_officer)
    bridge.requestRelease(t.as_tuple(), sigs, sender=alice)
    assert btoken.balanceOf(stranger) == t.amount
    compliance.setBlocked(alice, True, sender=compliance_officer)
    t2 = inbound()
    with ape.reverts(bridge.BridgeSenderNotAllowed, sender=alice.address):
        bridge.requestRelease(t2.as_tuple(), sign_with(t2, bridge, validator_keys[:3]), sender=stranger)


def test_invalid_recipient_zero_amount_unlisted(project, admin, bridge, inbound, validator_keys, stranger):
    cases = [
        (inbound(recipient=bridge.address), bridge.BridgeInvalidRecipient),
        (inbound(recipient=ape.utils.ZERO_ADDRESS), bridge.BridgeInvalidRecipient),
        (inbound(amount=0), bridge.BridgeZeroAmount),
    ]
    other = project.MockERC20.deploy("Other", "OTH", 6, sender=admin)
    cases.append((inbound(token=other.address), bridge.BridgeTokenNotListed))
    for t, error in cases:
        with ape.reverts(error):
            bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)


def test_reentrant_token_cannot_reenter_release(project, admin, bridge, inbound, validator_keys, funded, stranger):
    alice, bob, _ = funded
    evil = project.MockReentrantToken.deploy(sender=admin)
    bridge.configureToken(evil, True, False, 10**12, 10**12, sender=admin)
    bridge.setRoute(evil, REMOTE_CHAIN, evil.address, sender=admin)
    evil.mint(alice, 1_000, sender=alice)
    evil.approve(bridge, 1_000, sender=alice)
    bridge.lock(evil, 1_000, REMOTE_CHAIN, bob, sender=alice)
    t = inbound(token=evil.address, amount=500)
    evil.arm(bridge, bridge.lock.encode_input(evil, 1, REMOTE_CHAIN, bob), sender=alice)
    with ape.reverts(bridge.ReentrancyGuardReentrantCall):
        bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    assert bridge.releases(t.transfer_id).status == 0


def test_validator_keys_are_distinct_from_other_salts():
    # Guard for the helpers themselves: two salts give disjoint key sets.
    a = {v.address for v in make_validators(3, "x")}
    b = {v.address for v in make_validators(3, "y")}
    assert not a & b
