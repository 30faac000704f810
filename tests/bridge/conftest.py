"""Bridge fixtures: one bridge on ape's chain standing for the destination AND the source of a
route to a fictitious remote chain, validator keys, a native token and a wrapped token."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bridge.helpers import (
    DELAY_BLOCKS,
    DELAY_SECONDS,
    DELAY_THRESHOLD,
    RATE_CAPACITY,
    RATE_WINDOW,
    REMOTE_BRIDGE,
    REMOTE_CHAIN,
    REMOTE_USDC,
    REMOTE_WRAPPED_ORIGIN,
    USDC_UNIT,
    ValidatorKey,
    make_validators,
)
from offchain.bridge.deploy import BridgeParams, deploy_bridge
from offchain.bridge.messages import Transfer


@pytest.fixture(scope="session")
def validator_keys() -> list[ValidatorKey]:
    """Seven validator keys; the bridge starts with the first five (3-of-5)."""
    return make_validators(7)


@pytest.fixture(scope="session")
def bridge(project, admin, core, validator_keys):
    params = BridgeParams(
        validators=[v.address for v in validator_keys[:5]],
        threshold=3,
        delay_seconds=DELAY_SECONDS,
        delay_blocks=DELAY_BLOCKS,
        rate_window=RATE_WINDOW,
    )
    return deploy_bridge(project, admin, core, params)


@pytest.fixture(scope="session")
def btoken(project, admin, bridge):
    """A native token (6 decimals) listed in lock/release mode, routed to REMOTE_CHAIN."""
    token = project.MockERC20.deploy("Bridge USD", "BUSD", 6, sender=admin)
    bridge.configureToken(token, True, False, DELAY_THRESHOLD, RATE_CAPACITY, sender=admin)
    bridge.setRoute(token, REMOTE_CHAIN, REMOTE_USDC, sender=admin)
    bridge.setRemoteBridge(REMOTE_CHAIN, REMOTE_BRIDGE, sender=admin)
    return token


@pytest.fixture(scope="session")
def wtoken(project, admin, bridge, btoken):
    """A wrapped token of an asset native to REMOTE_CHAIN, listed in mint/burn mode."""
    token = project.BridgedToken.deploy("Wrapped Remote", "wREM", 18, bridge, sender=admin)
    bridge.configureToken(token, True, True, 10_000 * 10**18, 100_000 * 10**18, sender=admin)
    bridge.setRoute(token, REMOTE_CHAIN, REMOTE_WRAPPED_ORIGIN, sender=admin)
    return token


@pytest.fixture(scope="session")
def funded(traders, btoken, bridge):
    """alice, bob, carol allowlisted with 1m BUSD each and the bridge approved."""
    for trader in traders:
        btoken.mint(trader, 1_000_000 * USDC_UNIT, sender=trader)
        btoken.approve(bridge, 2**256 - 1, sender=trader)
    return traders


@pytest.fixture
def inbound(chain, bridge, btoken, funded):
    """Factory of inbound transfers from REMOTE_CHAIN to this chain (defaults: BUSD to bob)."""
    alice, bob, _ = funded
    counter = iter(range(1, 10**9))

    def make(**overrides: Any) -> Transfer:
        base = Transfer(
            src_chain_id=REMOTE_CHAIN,
            dst_chain_id=chain.chain_id,
            src_bridge=REMOTE_BRIDGE,
            nonce=next(counter),
            token=btoken.address,
            sender=alice.address,
            recipient=bob.address,
            amount=1_000 * USDC_UNIT,
        )
        return replace(base, **overrides)

    return make


@pytest.fixture
def escrow(bridge, btoken, funded):
    """Lock ``amount`` of BUSD from carol towards REMOTE_CHAIN so that inbound releases have backing."""

    def fund(amount: int) -> None:
        bridge.lock(btoken, amount, REMOTE_CHAIN, funded[2], sender=funded[2])

    return fund
