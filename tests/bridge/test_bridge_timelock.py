"""Large releases wait the time lock in seconds AND blocks; a guardian can cancel (SECURITY 31, B5)."""

import ape
import pytest

from bridge.helpers import DELAY_BLOCKS, DELAY_SECONDS, DELAY_THRESHOLD, REMOTE_CHAIN, USDC_UNIT, sign_with

LARGE = DELAY_THRESHOLD + 1


@pytest.fixture(autouse=True)
def _escrowed(escrow):
    escrow(100_000 * USDC_UNIT)


def _queue(bridge, t, validator_keys, stranger):
    return bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)


def test_threshold_amount_is_immediate_and_above_is_queued(bridge, btoken, inbound, validator_keys, stranger, bob):
    at = inbound(amount=DELAY_THRESHOLD)
    _queue(bridge, at, validator_keys, stranger)
    assert bridge.releases(at.transfer_id).status == 2
    above = inbound(amount=LARGE)
    before = btoken.balanceOf(bob)
    tx = _queue(bridge, above, validator_keys, stranger)
    [log] = tx.events.filter(bridge.ReleaseQueued)
    assert log.id == above.transfer_id
    assert log.readyAt == tx.timestamp + DELAY_SECONDS
    assert log.readyBlock == tx.block_number + DELAY_BLOCKS
    assert log.epoch == 0
    assert not tx.events.filter(bridge.Released)
    assert btoken.balanceOf(bob) == before
    record = bridge.releases(above.transfer_id)
    assert (record.status, record.readyAt, record.readyBlock) == (1, log.readyAt, log.readyBlock)
    with ape.reverts(bridge.BridgeAlreadyPending, id=above.transfer_id):
        _queue(bridge, above, validator_keys, stranger)


def _advance(chain, seconds: int, blocks: int) -> None:
    """Advance exactly ``blocks`` blocks spanning ``seconds`` seconds in total (blocks >= 1)."""
    start = chain.pending_timestamp
    for i in range(blocks):
        chain.pending_timestamp = start + (seconds * (i + 1)) // blocks
        chain.mine()


@pytest.mark.parametrize(
    ("seconds", "blocks", "ready"),
    [
        (DELAY_SECONDS - 1, DELAY_BLOCKS + 5, False),  # enough blocks, too early
        (DELAY_SECONDS + 100, DELAY_BLOCKS - 2, False),  # late enough, too few blocks
        (DELAY_SECONDS, DELAY_BLOCKS, True),  # both exactly at the boundary (next tx is in a new block)
    ],
)
def test_finalize_needs_seconds_and_blocks(
    chain, bridge, btoken, inbound, validator_keys, stranger, bob, seconds, blocks, ready
):
    t = inbound(amount=LARGE)
    tx = _queue(bridge, t, validator_keys, stranger)
    # The finalize tx itself is mined one block later, at >= the last mined timestamp.
    _advance(chain, seconds - 1, blocks - 1)
    chain.pending_timestamp = tx.timestamp + seconds
    if ready:
        before = btoken.balanceOf(bob)
        fin = bridge.finalizeRelease(t.as_tuple(), sender=stranger)
        assert fin.block_number == tx.block_number + DELAY_BLOCKS
        assert btoken.balanceOf(bob) == before + LARGE
        assert fin.events.filter(bridge.Released)[0].id == t.transfer_id
        assert bridge.releases(t.transfer_id).status == 2
        with ape.reverts(bridge.BridgeNotPending):
            bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    else:
        record = bridge.releases(t.transfer_id)
        with ape.reverts(
            bridge.BridgeTimelockActive, id=t.transfer_id, readyAt=record.readyAt, readyBlock=record.readyBlock
        ):
            bridge.finalizeRelease(t.as_tuple(), sender=stranger)


def test_guardian_cancels_during_window_for_good(chain, bridge, inbound, validator_keys, stranger, guardian):
    t = inbound(amount=LARGE)
    _queue(bridge, t, validator_keys, stranger)
    tx = bridge.cancelRelease(t.transfer_id, sender=guardian)
    [log] = tx.events.filter(bridge.ReleaseCancelled)
    assert (log.id, log.guardian) == (t.transfer_id, guardian.address)
    _advance(chain, DELAY_SECONDS * 2, DELAY_BLOCKS * 2)
    with ape.reverts(bridge.BridgeNotPending, id=t.transfer_id):
        bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    with ape.reverts(bridge.BridgeTransferCancelled, id=t.transfer_id):
        _queue(bridge, t, validator_keys, stranger)
    with ape.reverts(bridge.BridgeNotPending):
        bridge.cancelRelease(t.transfer_id, sender=guardian)


def test_only_guardian_cancels(bridge, inbound, validator_keys, stranger, admin):
    t = inbound(amount=LARGE)
    _queue(bridge, t, validator_keys, stranger)
    for who in (stranger, admin):
        with ape.reverts(bridge.AccessControlUnauthorizedAccount, account=who.address):
            bridge.cancelRelease(t.transfer_id, sender=who)


def test_finalize_requires_the_approved_transfer(chain, bridge, inbound, validator_keys, stranger, carol):
    from dataclasses import replace

    t = inbound(amount=LARGE)
    _queue(bridge, t, validator_keys, stranger)
    _advance(chain, DELAY_SECONDS, DELAY_BLOCKS)
    with ape.reverts(bridge.BridgeTransferMismatch, id=t.transfer_id):
        bridge.finalizeRelease(replace(t, recipient=carol.address).as_tuple(), sender=stranger)
    with ape.reverts(bridge.BridgeNotPending):
        bridge.finalizeRelease(inbound(amount=LARGE).as_tuple(), sender=stranger)


def test_paused_bridge_releases_nothing(chain, bridge, inbound, validator_keys, stranger, guardian, admin):
    t = inbound(amount=LARGE)
    _queue(bridge, t, validator_keys, stranger)
    small = inbound()
    bridge.pause(sender=guardian)
    _advance(chain, DELAY_SECONDS, DELAY_BLOCKS)
    with ape.reverts(bridge.EnforcedPause):
        bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    with ape.reverts(bridge.EnforcedPause):
        _queue(bridge, small, validator_keys, stranger)
    bridge.unpause(sender=admin)
    bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    _queue(bridge, small, validator_keys, stranger)
    assert bridge.releases(small.transfer_id).status == 2


def test_compliance_rechecked_at_finalize(
    chain, bridge, inbound, validator_keys, stranger, bob, compliance, compliance_officer
):
    t = inbound(amount=LARGE)
    _queue(bridge, t, validator_keys, stranger)
    compliance.setBlocked(bob, True, sender=compliance_officer)
    _advance(chain, DELAY_SECONDS, DELAY_BLOCKS)
    with ape.reverts(bridge.BridgeRecipientNotAllowed, recipient=bob.address):
        bridge.finalizeRelease(t.as_tuple(), sender=stranger)
    assert bridge.routeTotals(REMOTE_CHAIN, t.token)[1] == 0
