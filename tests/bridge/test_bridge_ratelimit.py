"""Per-token release capacity per fixed window (SECURITY 31, B9)."""

import ape
import pytest

from bridge.helpers import DELAY_THRESHOLD, RATE_CAPACITY, RATE_WINDOW, USDC_UNIT, sign_with


@pytest.fixture(autouse=True)
def _escrowed(escrow):
    escrow(4 * RATE_CAPACITY)


def _release(bridge, t, validator_keys, stranger):
    return bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)


def _start_of_next_window(chain) -> None:
    now = chain.pending_timestamp
    chain.pending_timestamp = (now // RATE_WINDOW + 1) * RATE_WINDOW
    chain.mine()


def test_window_capacity_is_enforced_and_resets(chain, bridge, btoken, inbound, validator_keys, stranger):
    _start_of_next_window(chain)
    pieces = RATE_CAPACITY // DELAY_THRESHOLD
    for _ in range(pieces):
        _release(bridge, inbound(amount=DELAY_THRESHOLD), validator_keys, stranger)
    assert bridge.availableCapacity(btoken) == RATE_CAPACITY - pieces * DELAY_THRESHOLD == 0
    t = inbound(amount=1)
    with ape.reverts(bridge.BridgeRateLimited, token=btoken.address, amount=1, available=0):
        _release(bridge, t, validator_keys, stranger)
    # Last second of the window: still refused; first second of the next: accepted.
    chain.pending_timestamp = (chain.pending_timestamp // RATE_WINDOW + 1) * RATE_WINDOW - 1
    with ape.reverts(bridge.BridgeRateLimited):
        _release(bridge, t, validator_keys, stranger)
    chain.pending_timestamp = (chain.pending_timestamp // RATE_WINDOW + 1) * RATE_WINDOW
    _release(bridge, t, validator_keys, stranger)
    assert bridge.availableCapacity(btoken) == RATE_CAPACITY - 1


def test_partial_capacity_reports_what_is_left(chain, bridge, btoken, inbound, validator_keys, stranger):
    _start_of_next_window(chain)
    _release(bridge, inbound(amount=3 * USDC_UNIT), validator_keys, stranger)
    left = RATE_CAPACITY - 3 * USDC_UNIT
    assert bridge.availableCapacity(btoken) == left


def test_amount_above_capacity_is_refused_at_request(admin, bridge, btoken, inbound, validator_keys, stranger):
    bridge.configureToken(btoken, True, False, DELAY_THRESHOLD, 5 * USDC_UNIT, sender=admin)
    t = inbound(amount=5 * USDC_UNIT + 1)
    with ape.reverts(bridge.BridgeRateLimited, amount=5 * USDC_UNIT + 1, available=5 * USDC_UNIT):
        _release(bridge, t, validator_keys, stranger)


def test_zero_capacity_blocks_releases(admin, bridge, btoken, inbound, validator_keys, stranger):
    bridge.configureToken(btoken, True, False, DELAY_THRESHOLD, 0, sender=admin)
    with ape.reverts(bridge.BridgeRateLimited):
        _release(bridge, inbound(amount=1), validator_keys, stranger)


def test_delayed_release_consumes_capacity_at_finalize(chain, admin, bridge, btoken, inbound, validator_keys, stranger):
    from bridge.helpers import DELAY_BLOCKS, DELAY_SECONDS

    bridge.configureToken(btoken, True, False, 10 * USDC_UNIT, 30 * USDC_UNIT, sender=admin)
    bridge.setDelay(DELAY_SECONDS, DELAY_BLOCKS, sender=admin)
    _start_of_next_window(chain)
    big = inbound(amount=20 * USDC_UNIT)
    _release(bridge, big, validator_keys, stranger)  # queued, consumes nothing yet
    assert bridge.availableCapacity(btoken) == 30 * USDC_UNIT
    for _ in range(2):
        _release(bridge, inbound(amount=10 * USDC_UNIT), validator_keys, stranger)
    chain.mine(DELAY_BLOCKS)
    chain.pending_timestamp += DELAY_SECONDS
    with ape.reverts(bridge.BridgeRateLimited, amount=20 * USDC_UNIT, available=10 * USDC_UNIT):
        bridge.finalizeRelease(big.as_tuple(), sender=stranger)
    chain.pending_timestamp = (chain.pending_timestamp // RATE_WINDOW + 1) * RATE_WINDOW
    bridge.finalizeRelease(big.as_tuple(), sender=stranger)
    assert bridge.availableCapacity(btoken) == 10 * USDC_UNIT


def test_zero_window_rejected(admin, bridge):
    with ape.reverts(bridge.BridgeConfigZeroWindow):
        bridge.setRateWindow(0, sender=admin)
    tx = bridge.setRateWindow(3600, sender=admin)
    assert tx.events.filter(bridge.RateWindowSet)[0].rateWindow == 3600
