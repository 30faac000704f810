"""Login challenges and sessions: an account (or its API key) proves control by signing an EIP-712 message.

Flow: ``POST /auth/challenge {account}`` returns a server nonce (32 random bytes), its expiry and the typed
data to sign; ``POST /auth/login {account, nonce, signature}`` consumes the nonce (single use, even when
the login fails), recovers the signer under OpenZeppelin ECDSA rules and accepts the account itself or a
delegate whose ``Settlement.delegateExpiry(account, delegate)`` is in the future. The answer is a bearer
token for private queries and the private stream.

Typed data::

    EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
        name = "perpx Gateway", version = "1", verifyingContract = the Settlement contract
    Login(address account,bytes32 nonce,uint64 expiry)
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from eth_utils import to_canonical_address, to_checksum_address

from offchain.eip712 import EIP712_DOMAIN_TYPE
from offchain.orders.order import DOMAIN_TYPEHASH, Domain, checksum_address, keccak, keccak256
from offchain.orders.signing import recover_signer_bytes

LOGIN_DOMAIN_NAME = "perpx Gateway"
LOGIN_DOMAIN_VERSION = "1"
LOGIN_TYPE_STRING = "Login(address account,bytes32 nonce,uint64 expiry)"
LOGIN_TYPEHASH = keccak(text=LOGIN_TYPE_STRING)


class AuthError(ValueError):
    """A login or session that is refused; the message says why."""


def login_domain_separator(domain: Domain) -> bytes:
    """Domain separator of the login message (same chain and contract as orders, another name)."""
    return keccak256(
        DOMAIN_TYPEHASH
        + keccak(text=LOGIN_DOMAIN_NAME)
        + keccak(text=LOGIN_DOMAIN_VERSION)
        + domain.chain_id.to_bytes(32, "big")
        + to_canonical_address(domain.verifying_contract).rjust(32, b"\x00")
    )


def login_digest(domain: Domain, account: str, nonce: bytes, expiry: int) -> bytes:
    """EIP-712 digest of ``Login(account, nonce, expiry)``."""
    struct = keccak256(
        LOGIN_TYPEHASH + to_canonical_address(account).rjust(32, b"\x00") + nonce + expiry.to_bytes(32, "big")
    )
    return keccak256(b"\x19\x01" + login_domain_separator(domain) + struct)


def login_typed_data(domain: Domain, account: str, nonce: bytes, expiry: int) -> dict[str, Any]:
    """The login message in eth-account ``encode_typed_data(full_message=...)`` / ``eth_signTypedData_v4`` form."""
    return {
        "types": {
            "EIP712Domain": EIP712_DOMAIN_TYPE,
            "Login": [
                {"name": "account", "type": "address"},
                {"name": "nonce", "type": "bytes32"},
                {"name": "expiry", "type": "uint64"},
            ],
        },
        "primaryType": "Login",
        "domain": {
            "name": LOGIN_DOMAIN_NAME,
            "version": LOGIN_DOMAIN_VERSION,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": {"account": account, "nonce": "0x" + nonce.hex(), "expiry": expiry},
    }


@dataclass(frozen=True)
class Challenge:
    account: str
    nonce: bytes
    expiry: int


@dataclass(frozen=True)
class Session:
    """An authenticated caller: ``account`` whose orders and fills it may see, ``signer`` who logged in."""

    token: str
    account: str
    signer: str
    expiry: float

    @property
    def via_delegate(self) -> bool:
        return self.signer != self.account


class ChallengeStore:
    """Outstanding login nonces (bounded: the oldest are dropped past ``max_outstanding``)."""

    def __init__(self, ttl_seconds: int = 120, max_outstanding: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_outstanding = max_outstanding
        self._pending: OrderedDict[bytes, Challenge] = OrderedDict()

    def issue(self, account: str, now: int) -> Challenge:
        challenge = Challenge(checksum_address(account), secrets.token_bytes(32), now + self.ttl)
        self._pending[challenge.nonce] = challenge
        while len(self._pending) > self.max_outstanding:
            self._pending.popitem(last=False)
        return challenge

    def consume(self, nonce: bytes, account: str, now: int) -> Challenge:
        """Remove and return the challenge, or raise :class:`AuthError` (unknown, used, expired, other account)."""
        challenge = self._pending.pop(nonce, None)
        if challenge is None:
            raise AuthError("unknown or already used login nonce: request a new challenge")
        if challenge.expiry <= now:
            raise AuthError(f"login challenge expired at {challenge.expiry} (now {now})")
        if challenge.account != checksum_address(account):
            raise AuthError("login challenge was issued for another account")
        return challenge


def recover_login_signer(domain: Domain, challenge: Challenge, signature: bytes) -> str:
    """The checksummed signer of the login message, or :class:`AuthError`."""
    try:
        signer = recover_signer_bytes(login_digest(domain, challenge.account, challenge.nonce, challenge.expiry),
                                      signature)  # fmt: skip
    except ValueError as exc:
        raise AuthError(f"bad login signature: {exc}") from None
    return to_checksum_address(signer)


class SessionStore:
    """Bearer tokens -> sessions (bounded; expired sessions are refused and dropped)."""

    def __init__(self, max_sessions: int = 100_000) -> None:
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, account: str, signer: str, expiry: float) -> Session:
        session = Session(secrets.token_urlsafe(32), account, signer, expiry)
        self._sessions[session.token] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return session

    def get(self, token: str, now: float) -> Session:
        session = self._sessions.get(token)
        if session is None:
            raise AuthError("unknown session token: log in again")
        if session.expiry <= now:
            del self._sessions[token]
            raise AuthError("session expired: log in again")
        return session

    def close(self, token: str) -> None:
        self._sessions.pop(token, None)
