"""Gas figures of the bridge and stock-token hot paths, for `make gas`.

``measure(project, accounts)`` deploys fresh contracts on the connected (local) network and returns
``[(label, gas_used), ...]``. Validator and custodian keys are throwaway, derived from fixed labels.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_utils import keccak

from offchain import roles
from offchain.bridge.attestor import sign_attestation
from offchain.bridge.messages import Transfer, ordered_signatures, sign_transfer, sorted_addresses

_REMOTE_BRIDGE = "0x000000000000000000000000000000000000bEEF"


def _keys(n: int, label: str) -> list[Any]:
    return [Account.from_key(keccak(text=f"{label}.{i}")) for i in range(n)]


def _bridge_figures(
    project: Any, chain: Any, admin: Any, user: Any, acl: Any, compliance: Any, m: int, n: int
) -> list[tuple[str, int]]:
    vals = _keys(n, f"gas.validator.{m}of{n}")
    bridge = project.Bridge.deploy(
        acl, compliance, sorted_addresses([v.address for v in vals]), m, 60, 2, 86400, sender=admin
    )
    remote = chain.chain_id + 1
    token = project.MockERC20.deploy("Gas USD", "GUSD", 6, sender=admin)
    bridge.configureToken(token, True, False, 10**9, 10**15, sender=admin)
    bridge.setRoute(token, remote, token, sender=admin)
    bridge.setRemoteBridge(remote, _REMOTE_BRIDGE, sender=admin)
    token.mint(user, 10**13, sender=user)
    token.approve(bridge, 2**256 - 1, sender=user)
    bridge.lock(token, 10**12, remote, user, sender=user)  # warm the route's storage
    lock = bridge.lock(token, 10**12, remote, user, sender=user)

    def release(nonce: int, amount: int) -> Any:
        t = Transfer(remote, chain.chain_id, _REMOTE_BRIDGE, nonce, token.address, user.address, user.address, amount)
        sigs = ordered_signatures({v.address: sign_transfer(v.key, t, bridge.address) for v in vals[:m]})
        return t, bridge.requestRelease(t.as_tuple(), sigs, sender=user)

    release(1, 10**6)  # warm the rate-limit slot
    _, immediate = release(2, 10**6)
    out = [(f"bridge.release signers={m}", immediate.gas_used)]
    if m == 3:
        t, queued = release(3, 10**10)
        chain.pending_timestamp += 61
        chain.mine(2)
        finalize = bridge.finalizeRelease(t.as_tuple(), sender=user)
        out = [
            ("bridge.lock", lock.gas_used),
            *out,
            ("bridge.requestRelease queued signers=3", queued.gas_used),
            ("bridge.finalizeRelease", finalize.gas_used),
        ]
    return out


def measure(project: Any, accounts: Any) -> list[tuple[str, int]]:
    """Deploy and exercise the bridge (3-of-5 and 5-of-7) and a StockToken; return gas per operation."""
    from ape import chain

    admin, user = accounts[0], accounts[1]
    acl = project.ProtocolAccess.deploy(admin, sender=admin)
    compliance = project.ComplianceRegistry.deploy(acl, False, sender=admin)
    figures = _bridge_figures(project, chain, admin, user, acl, compliance, 3, 5)
    figures += _bridge_figures(project, chain, admin, user, acl, compliance, 5, 7)

    custodian = Account.from_key(keccak(text="gas.custodian"))
    stock = project.StockToken.deploy("Gas Stock", "xGAS", acl, compliance, custodian.address, 86400, sender=admin)
    acl.grantRole(roles.MINTER, admin, sender=admin)

    def attest(nonce: int) -> Any:
        ts = chain.pending_timestamp
        report = keccak(text=f"report {nonce}")
        sig = sign_attestation(custodian.key, chain.chain_id, stock.address, 10**24, report, ts, nonce)
        return stock.postAttestation(10**24, report, ts, nonce, sig, sender=user)

    attest(1)
    posted = attest(2)
    stock.mint(user, 10**18, sender=admin)
    minted = stock.mint(user, 10**18, sender=admin)
    redeemed = stock.redeem(10**17, b"\x01" * 32, sender=user)
    figures += [
        ("stock.postAttestation", posted.gas_used),
        ("stock.mint", minted.gas_used),
        ("stock.redeem", redeemed.gas_used),
    ]
    return figures
