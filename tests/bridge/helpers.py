"""Constants and signing helpers shared by the bridge tests (imported as ``bridge.helpers``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_utils import keccak

from offchain.bridge.messages import Transfer, ordered_signatures, sign_transfer

REMOTE_CHAIN = 424242
REMOTE_BRIDGE = "0x000000000000000000000000000000000000bEEF"
REMOTE_USDC = "0x00000000000000000000000000000000000A11cE"
REMOTE_WRAPPED_ORIGIN = "0x0000000000000000000000000000000000000B0b"
DELAY_SECONDS = 3600
DELAY_BLOCKS = 10
RATE_WINDOW = 86400
USDC_UNIT = 10**6
DELAY_THRESHOLD = 10_000 * USDC_UNIT
RATE_CAPACITY = 100_000 * USDC_UNIT


@dataclass(frozen=True)
class ValidatorKey:
    """A validator's key pair."""

    key: bytes
    address: str


def make_validators(n: int, salt: str = "perpx.validator") -> list[ValidatorKey]:
    """``n`` deterministic validator keys, sorted by address."""
    keys = [keccak(text=f"{salt}.{i}") for i in range(n)]
    vals = [ValidatorKey(k, Account.from_key(k).address) for k in keys]
    return sorted(vals, key=lambda v: int(v.address, 16))


def sign_with(transfer: Transfer, bridge: Any, signers: list[ValidatorKey]) -> list[bytes]:
    """Signatures of ``signers`` over ``transfer`` for ``bridge``, ascending by signer."""
    return ordered_signatures({v.address: sign_transfer(v.key, transfer, bridge.address) for v in signers})


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def malleate(signature: bytes) -> bytes:
    """The high-s twin of a valid signature (same signer under raw ecrecover)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


def with_v(signature: bytes, v: int) -> bytes:
    """``signature`` with its recovery byte replaced."""
    return signature[:64] + bytes([v])
