"""Sign orders with a raw key or an ape account; verify and recover signers like OpenZeppelin ECDSA.

Signature format: 65 bytes ``r || s || v`` with ``v`` in {27, 28}. Verification refuses what
``ECDSA.tryRecover`` refuses: ``s`` above secp256k1n/2 (malleable high-s), ``v`` outside {27, 28},
``r``/``s`` zero or out of range, and a recovered signer equal to ``address(0)``.
"""

from __future__ import annotations

from typing import Any

import coincurve
from coincurve import PublicKey
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from offchain.orders.order import Domain, Order, SignedOrder, keccak256

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2  # 0x7FFF...5D576E7357A4501DDFE92F46681B20A0, OZ's bound for s
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_ADDRESS_BYTES = bytes(20)


class SignatureError(ValueError):
    """A signature that OpenZeppelin's ECDSA would refuse, or whose signer is not allowed."""


def _private_key_bytes(key: bytes | str | int) -> bytes:
    if isinstance(key, int):
        return key.to_bytes(32, "big")
    if isinstance(key, str):
        return bytes.fromhex(key.removeprefix("0x"))
    return bytes(key)


def address_of_key(key: bytes | str | int) -> str:
    """The checksummed address of a secp256k1 private key."""
    public = coincurve.PrivateKey(_private_key_bytes(key)).public_key.format(compressed=False)
    return to_checksum_address(keccak256(public[1:])[-20:])


def sign_digest(digest: bytes, key: bytes | str | int) -> bytes:
    """Sign a 32-byte digest; returns ``r||s||v`` (low-s, v in {27, 28})."""
    if len(digest) != 32:
        raise ValueError(f"digest must be 32 bytes, got {len(digest)}")
    raw = coincurve.PrivateKey(_private_key_bytes(key)).sign_recoverable(digest, hasher=None)
    return raw[:64] + bytes([raw[64] + 27])


def sign_order(order: Order, domain: Domain, key: bytes | str | int) -> SignedOrder:
    """Sign ``order`` for ``domain`` with a raw private key."""
    return SignedOrder(order, sign_digest(order.digest(domain), key), domain)


def sign_order_with_account(order: Order, domain: Domain, account: Any) -> SignedOrder:
    """Sign ``order`` with any ape account (test account, keyfile account, hardware wallet).

    The account signs the EIP-712 typed data, so wallets display the order fields.
    """
    signable = encode_typed_data(full_message=order.typed_data(domain))
    sig = account.sign_message(signable)
    if sig is None:
        raise SignatureError(f"account {account} declined to sign the order")
    r = sig.r if isinstance(sig.r, bytes) else int(sig.r).to_bytes(32, "big")
    s = sig.s if isinstance(sig.s, bytes) else int(sig.s).to_bytes(32, "big")
    v = sig.v if sig.v >= 27 else sig.v + 27
    return SignedOrder(order, r.rjust(32, b"\x00") + s.rjust(32, b"\x00") + bytes([v]), domain)


def recover_signer_bytes(digest: bytes, signature: bytes) -> bytes:
    """Recover the 20-byte signer of ``digest`` under OpenZeppelin ECDSA rules, or raise :class:`SignatureError`."""
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes, got {len(signature)}")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v != 27 and v != 28:
        raise SignatureError(f"invalid v={v}: must be 27 or 28")
    if s > SECP256K1_HALF_N:
        raise SignatureError("high-s signature (malleable) refused")
    r = int.from_bytes(signature[0:32], "big")
    if not 0 < r < SECP256K1_N or s == 0:
        raise SignatureError("r or s out of range")
    try:
        public = PublicKey.from_signature_and_message(signature[:64] + bytes((v - 27,)), digest, hasher=None)
    except Exception as exc:  # coincurve raises a bare Exception for unrecoverable points
        raise SignatureError(f"signature does not recover: {exc}") from None
    signer = keccak256(public.format(compressed=False)[1:])[-20:]
    if signer == ZERO_ADDRESS_BYTES:
        raise SignatureError("signature recovers to address(0)")
    return signer


def recover_signer(digest: bytes, signature: bytes) -> str:
    """Checksummed form of :func:`recover_signer_bytes`."""
    return to_checksum_address(recover_signer_bytes(digest, signature))


def verify_signed_order(signed: SignedOrder, expected_domain: Domain, delegates: frozenset[str] = frozenset()) -> str:
    """Check ``signed`` was signed for ``expected_domain`` by its trader (or one of ``delegates``).

    Returns the checksummed signer; raises :class:`SignatureError` naming the problem.
    """
    if signed.domain != expected_domain:
        raise SignatureError(f"order signed for another domain: {signed.domain} != {expected_domain}")
    trader = signed.order.trader
    trader_bytes = bytes.fromhex(trader[2:])
    if trader_bytes == ZERO_ADDRESS_BYTES:
        raise SignatureError("order trader is address(0)")
    signer = recover_signer_bytes(signed.hash, signed.signature)
    if signer == trader_bytes:
        return trader
    signer_address = to_checksum_address(signer)
    if signer_address not in delegates:
        raise SignatureError(f"signer {signer_address} is neither the trader {trader} nor an authorised delegate")
    return signer_address


def malleate(signature: bytes) -> bytes:
    """The high-s twin of a signature (``s' = n - s``, ``v' = 55 - v``): valid math, refused by policy."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
