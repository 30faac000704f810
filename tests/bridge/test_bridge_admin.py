"""Controls: guardian pauses, only admin unpauses and configures; the executor and the bridge hold
no administrative power; admin cannot move escrow (SECURITY 31, 32, B6, B10)."""

import ape
import pytest

from bridge.helpers import REMOTE_CHAIN, USDC_UNIT, sign_with
from offchain import roles


def test_pause_by_guardian_unpause_by_admin_only(bridge, guardian, admin, stranger):
    with ape.reverts(bridge.AccessControlUnauthorizedAccount, account=stranger.address):
        bridge.pause(sender=stranger)
    tx = bridge.pause(sender=guardian)
    assert tx.events.filter(bridge.Paused)[0].account == guardian.address
    assert bridge.paused()
    with ape.reverts(bridge.AccessControlUnauthorizedAccount, account=guardian.address):
        bridge.unpause(sender=guardian)
    with ape.reverts(bridge.AccessControlUnauthorizedAccount):
        bridge.unpause(sender=stranger)
    tx = bridge.unpause(sender=admin)
    assert tx.events.filter(bridge.Unpaused)[0].account == admin.address
    assert not bridge.paused()


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("configureToken", lambda t: (t, True, False, 1, 1)),
        ("setRoute", lambda t: (t, REMOTE_CHAIN, t)),
        ("setRemoteBridge", lambda t: (REMOTE_CHAIN, t)),
        ("setDelay", lambda t: (1, 1)),
        ("setRateWindow", lambda t: (1,)),
    ],
)
def test_config_is_admin_only(bridge, btoken, guardian, operator, stranger, method, args):
    for who in (guardian, operator, stranger):
        with ape.reverts(bridge.AccessControlUnauthorizedAccount, account=who.address, role=roles.ADMIN):
            getattr(bridge, method)(*args(btoken), sender=who)


def test_config_events_and_bounds(chain, bridge, btoken, admin):
    tx = bridge.configureToken(btoken, True, False, 7, 9, sender=admin)
    assert tx.events.filter(bridge.TokenConfigured)[0].rateCapacity == 9
    cfg = bridge.tokenConfig(btoken)
    assert (cfg.listed, cfg.wrapped, cfg.delayThreshold, cfg.rateCapacity) == (True, False, 7, 9)
    tx = bridge.setRoute(btoken, 5, btoken, sender=admin)
    assert tx.events.filter(bridge.RouteSet)[0].remoteToken == btoken.address
    tx = bridge.setRemoteBridge(5, btoken, sender=admin)
    assert tx.events.filter(bridge.RemoteBridgeSet)[0].bridge == btoken.address
    tx = bridge.setDelay(60, 3, sender=admin)
    assert (tx.events.filter(bridge.DelaySet)[0].delaySeconds, bridge.delayBlocks()) == (60, 3)
    with ape.reverts(bridge.BridgeConfigDelayTooLong, delaySeconds=30 * 86400 + 1):
        bridge.setDelay(30 * 86400 + 1, 0, sender=admin)
    for bad in (0, chain.chain_id):
        with ape.reverts(bridge.BridgeConfigInvalidChain, chainId=bad):
            bridge.setRoute(btoken, bad, btoken, sender=admin)
        with ape.reverts(bridge.BridgeConfigInvalidChain, chainId=bad):
            bridge.setRemoteBridge(bad, btoken, sender=admin)


def test_zero_compliance_or_acl_rejected(project, admin, acl, validator_keys):
    from offchain.bridge.messages import sorted_addresses

    vals = sorted_addresses([v.address for v in validator_keys[:3]])
    with ape.reverts(project.Bridge.BridgeZeroCompliance):
        project.Bridge.deploy(acl, ape.utils.ZERO_ADDRESS, vals, 2, 1, 1, 1, sender=admin)
    with ape.reverts(project.Bridge.BridgeConfigZeroWindow):
        project.Bridge.deploy(acl, acl, vals, 2, 1, 1, 0, sender=admin)


def test_bridge_and_relayer_hold_no_role(acl, bridge, escrow, inbound, validator_keys, stranger):
    escrow(1_000 * USDC_UNIT)
    t = inbound(amount=10)
    bridge.requestRelease(t.as_tuple(), sign_with(t, bridge, validator_keys[:3]), sender=stranger)
    for who in (bridge.address, stranger.address):
        assert not any(acl.hasRole(role, who) for role in roles.ALL.values())


def test_executor_cannot_reach_privileged_functions(project, admin, acl, bridge, inbound, validator_keys, stranger):
    """A signed message can only move a listed token: naming the ACL as token or recipient fails."""
    as_token = inbound(token=acl.address)
    with ape.reverts(bridge.BridgeTokenNotListed):
        bridge.requestRelease(as_token.as_tuple(), sign_with(as_token, bridge, validator_keys[:3]), sender=stranger)
    as_self = inbound(recipient=bridge.address)
    with ape.reverts(bridge.BridgeInvalidRecipient):
        bridge.requestRelease(as_self.as_tuple(), sign_with(as_self, bridge, validator_keys[:3]), sender=stranger)
    # No function of the ABI moves escrow other than the release path.
    names = {abi.name for abi in project.Bridge.contract_type.abi if abi.type == "function"}
    assert not {n for n in names if any(w in n.lower() for w in ("sweep", "withdraw", "rescue", "execute", "call"))}
