"""Source side: lock credits the measured delta of a listed token and emits what validators sign
(SECURITY 27, 28, B7)."""

import ape
import pytest

from bridge.helpers import REMOTE_CHAIN, REMOTE_USDC, REMOTE_WRAPPED_ORIGIN, USDC_UNIT

AMOUNT = 250 * USDC_UNIT


def test_lock_moves_funds_assigns_nonce_and_emits(bridge, btoken, funded):
    alice, bob, _ = funded
    before = btoken.balanceOf(alice)
    tx = bridge.lock(btoken, AMOUNT, REMOTE_CHAIN, bob, sender=alice)
    tx2 = bridge.lock(btoken, AMOUNT + 1, REMOTE_CHAIN, bob, sender=alice)
    assert btoken.balanceOf(alice) == before - 2 * AMOUNT - 1
    assert btoken.balanceOf(bridge) == 2 * AMOUNT + 1
    assert bridge.outboundNonce() == 2
    [log] = tx.events.filter(bridge.Locked)
    assert (log.nonce, log.dstChainId, log.token, log.remoteToken) == (1, REMOTE_CHAIN, btoken.address, REMOTE_USDC)
    assert (log.sender, log.recipient, log.amount) == (alice.address, bob.address, AMOUNT)
    assert tx2.events.filter(bridge.Locked)[0].nonce == 2
    assert bridge.routeTotals(REMOTE_CHAIN, btoken) == (2 * AMOUNT + 1, 0)


def test_lock_wrapped_burns_from_caller(bridge, wtoken, funded, chain, inbound, validator_keys):
    from bridge.helpers import sign_with

    alice, bob, _ = funded
    t = inbound(token=wtoken.address, recipient=alice.address, amount=5 * 10**18)
    bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=bob)
    assert wtoken.totalSupply() == 5 * 10**18
    tx = bridge.lock(wtoken, 2 * 10**18, REMOTE_CHAIN, bob, sender=alice)
    assert wtoken.totalSupply() == 3 * 10**18
    assert wtoken.balanceOf(bridge) == 0
    [log] = tx.events.filter(bridge.Locked)
    assert (log.remoteToken, log.amount) == (REMOTE_WRAPPED_ORIGIN, 2 * 10**18)
    assert bridge.routeTotals(REMOTE_CHAIN, wtoken) == (2 * 10**18, 5 * 10**18)


def test_lock_wrapped_more_than_held_reverts(bridge, wtoken, funded):
    alice, bob, _ = funded
    with ape.reverts(wtoken.ERC20InsufficientBalance):
        bridge.lock(wtoken, 1, REMOTE_CHAIN, bob, sender=alice)


def test_fee_on_transfer_credits_measured_delta(project, admin, bridge, funded):
    alice, bob, _ = funded
    fot = project.MockFeeOnTransferToken.deploy(100, sender=admin)  # 1%
    bridge.configureToken(fot, True, False, 10**12, 10**12, sender=admin)
    bridge.setRoute(fot, REMOTE_CHAIN, REMOTE_USDC, sender=admin)
    fot.mint(alice, 10_000, sender=alice)
    fot.approve(bridge, 10_000, sender=alice)
    tx = bridge.lock(fot, 10_000, REMOTE_CHAIN, bob, sender=alice)
    assert tx.events.filter(bridge.Locked)[0].amount == 9_900
    assert bridge.routeTotals(REMOTE_CHAIN, fot)[0] == 9_900
    fot.setFeeBps(10_000, sender=admin)
    fot.mint(alice, 10_000, sender=alice)
    fot.approve(bridge, 10_000, sender=alice)
    with ape.reverts(bridge.BridgeZeroAmount):
        bridge.lock(fot, 10_000, REMOTE_CHAIN, bob, sender=alice)


def test_usdt_like_token_works_through_safe_erc20(project, admin, bridge, funded):
    alice, bob, _ = funded
    usdt = project.MockNoReturnToken.deploy(sender=admin)
    bridge.configureToken(usdt, True, False, 10**12, 10**12, sender=admin)
    bridge.setRoute(usdt, REMOTE_CHAIN, REMOTE_USDC, sender=admin)
    usdt.mint(alice, 500, sender=alice)
    usdt.approve(bridge, 500, sender=alice)
    bridge.lock(usdt, 500, REMOTE_CHAIN, bob, sender=alice)
    assert usdt.balanceOf(bridge) == 500
    with ape.reverts():
        bridge.lock(usdt, 1, REMOTE_CHAIN, bob, sender=alice)  # no allowance left


def test_returns_false_token_reverts(project, admin, bridge, funded):
    alice, bob, _ = funded
    bad = project.MockReturnsFalseToken.deploy(sender=admin)
    bridge.configureToken(bad, True, False, 10**12, 10**12, sender=admin)
    bridge.setRoute(bad, REMOTE_CHAIN, REMOTE_USDC, sender=admin)
    with ape.reverts(bridge.SafeERC20FailedOperation):
        bridge.lock(bad, 1, REMOTE_CHAIN, bob, sender=alice)


def test_unlisted_token_reverts(project, admin, bridge, funded):
    alice, bob, _ = funded
    other = project.MockERC20.deploy("Other", "OTH", 18, sender=admin)
    with ape.reverts(bridge.BridgeTokenNotListed, token=other.address):
        bridge.lock(other, 1, REMOTE_CHAIN, bob, sender=alice)


def test_delisted_token_reverts(admin, bridge, btoken, funded):
    alice, bob, _ = funded
    bridge.configureToken(btoken, False, False, 0, 0, sender=admin)
    with ape.reverts(bridge.BridgeTokenNotListed):
        bridge.lock(btoken, 1, REMOTE_CHAIN, bob, sender=alice)


def test_token_without_code_cannot_be_listed(admin, bridge, stranger):
    with ape.reverts(bridge.BridgeConfigNotAContract, token=stranger.address):
        bridge.configureToken(stranger, True, False, 1, 1, sender=admin)


@pytest.mark.parametrize("remove", ["route", "bridge"])
def test_lock_without_route_reverts(admin, bridge, btoken, funded, remove):
    alice, bob, _ = funded
    if remove == "route":
        bridge.setRoute(btoken, REMOTE_CHAIN, ape.utils.ZERO_ADDRESS, sender=admin)
    else:
        bridge.setRemoteBridge(REMOTE_CHAIN, ape.utils.ZERO_ADDRESS, sender=admin)
    with ape.reverts(bridge.BridgeNoRoute, token=btoken.address, remoteChainId=REMOTE_CHAIN):
        bridge.lock(btoken, 1, REMOTE_CHAIN, bob, sender=alice)
    with ape.reverts(bridge.BridgeNoRoute):
        bridge.lock(btoken, 1, REMOTE_CHAIN + 1, bob, sender=alice)


def test_zero_recipient_and_zero_amount_revert(bridge, btoken, funded):
    alice, _, _ = funded
    with ape.reverts(bridge.BridgeInvalidRecipient):
        bridge.lock(btoken, 1, REMOTE_CHAIN, ape.utils.ZERO_ADDRESS, sender=alice)
    with ape.reverts(bridge.BridgeZeroAmount):
        bridge.lock(btoken, 0, REMOTE_CHAIN, alice, sender=alice)


def test_compliance_sender_and_recipient(bridge, btoken, funded, stranger, compliance, compliance_officer):
    alice, bob, _ = funded
    btoken.mint(stranger, 100, sender=stranger)
    btoken.approve(bridge, 100, sender=stranger)
    with ape.reverts(bridge.BridgeSenderNotAllowed, sender=stranger.address):
        bridge.lock(btoken, 100, REMOTE_CHAIN, bob, sender=stranger)
    compliance.setBlocked(bob, True, sender=compliance_officer)
    with ape.reverts(bridge.BridgeRecipientNotAllowed, recipient=bob.address):
        bridge.lock(btoken, 100, REMOTE_CHAIN, bob, sender=alice)
    compliance.setBlocked(alice, True, sender=compliance_officer)
    with ape.reverts(bridge.BridgeSenderNotAllowed):
        bridge.lock(btoken, 100, REMOTE_CHAIN, stranger, sender=alice)


def test_paused_bridge_refuses_locks(bridge, btoken, funded, guardian):
    alice, bob, _ = funded
    bridge.pause(sender=guardian)
    with ape.reverts(bridge.EnforcedPause):
        bridge.lock(btoken, 1, REMOTE_CHAIN, bob, sender=alice)


def test_reentrant_token_cannot_reenter_lock(project, admin, bridge, funded):
    alice, bob, _ = funded
    evil = project.MockReentrantToken.deploy(sender=admin)
    bridge.configureToken(evil, True, False, 10**12, 10**12, sender=admin)
    bridge.setRoute(evil, REMOTE_CHAIN, REMOTE_USDC, sender=admin)
    evil.mint(alice, 1_000, sender=alice)
    evil.approve(bridge, 1_000, sender=alice)
    evil.arm(bridge, bridge.lock.encode_input(evil, 1, REMOTE_CHAIN, bob), sender=alice)
    with ape.reverts(bridge.ReentrancyGuardReentrantCall):
        bridge.lock(evil, 10, REMOTE_CHAIN, bob, sender=alice)
    assert bridge.outboundNonce() == 0
