"""Custodian key and attestation helpers for the RWA tests (imported as ``rwa.helpers``)."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_utils import keccak

from offchain.bridge.attestor import sign_attestation

CUSTODIAN_KEY = keccak(text="perpx.custodian")
CUSTODIAN = Account.from_key(CUSTODIAN_KEY).address
OTHER_KEY = keccak(text="perpx.not-the-custodian")
MAX_AGE = 86_400
SHARE = 10**18


def attest(
    stock: Any,
    chain: Any,
    shares: int,
    nonce: int,
    *,
    timestamp: int | None = None,
    key: bytes = CUSTODIAN_KEY,
    chain_id: int | None = None,
    report: bytes = b"report",
    sender: Any,
) -> Any:
    """Sign and post an attestation; ``timestamp`` defaults to the pending block's time, pinned so the block
    that mines it has exactly that time (unpinned, the wall clock can tick in between on a loaded machine
    and a boundary-exact age check is off by one: seen once in CI)."""
    if timestamp is None:
        ts = chain.pending_timestamp = chain.pending_timestamp
    else:
        ts = timestamp
    cid = chain.chain_id if chain_id is None else chain_id
    sig = sign_attestation(key, cid, stock.address, shares, keccak(report), ts, nonce)
    return stock.postAttestation(shares, keccak(report), ts, nonce, sig, sender=sender)
