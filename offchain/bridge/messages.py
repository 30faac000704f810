"""EIP-712 messages of the bridge, mirroring contracts/bridge/BridgeMessages.sol.

The domain is the *destination* bridge: name "perpx Bridge", version "1", its chain id and address.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

DOMAIN_NAME = "perpx Bridge"
DOMAIN_VERSION = "1"

_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_TRANSFER_TYPE = [
    {"name": "srcChainId", "type": "uint256"},
    {"name": "dstChainId", "type": "uint256"},
    {"name": "srcBridge", "type": "address"},
    {"name": "nonce", "type": "uint256"},
    {"name": "token", "type": "address"},
    {"name": "sender", "type": "address"},
    {"name": "recipient", "type": "address"},
    {"name": "amount", "type": "uint256"},
]
_ROTATION_TYPE = [
    {"name": "validators", "type": "address[]"},
    {"name": "threshold", "type": "uint256"},
    {"name": "epoch", "type": "uint64"},
]


@dataclass(frozen=True)
class Transfer:
    """A cross-chain transfer exactly as validators sign it (field order = the Solidity struct)."""

    src_chain_id: int
    dst_chain_id: int
    src_bridge: str
    nonce: int
    token: str
    sender: str
    recipient: str
    amount: int

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple for `requestRelease` / `finalizeRelease`."""
        return (
            self.src_chain_id,
            self.dst_chain_id,
            to_checksum_address(self.src_bridge),
            self.nonce,
            to_checksum_address(self.token),
            to_checksum_address(self.sender),
            to_checksum_address(self.recipient),
            self.amount,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (for the relayer's store)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transfer:
        """Inverse of :meth:`to_json`."""
        return cls(**data)

    @property
    def transfer_id(self) -> bytes:
        """The destination's id for this transfer."""
        return transfer_id(self.src_chain_id, self.src_bridge, self.nonce)


def transfer_id(src_chain_id: int, src_bridge: str, nonce: int) -> bytes:
    """keccak256(abi.encode(srcChainId, srcBridge, nonce)), as BridgeMessages.transferId."""
    return keccak(encode(["uint256", "address", "uint256"], [src_chain_id, to_checksum_address(src_bridge), nonce]))


def _domain(chain_id: int, bridge: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(bridge),
    }


def transfer_typed_data(transfer: Transfer, dst_bridge: str, *, domain_chain_id: int | None = None) -> dict[str, Any]:
    """Full EIP-712 typed data of ``transfer`` for the destination bridge ``dst_bridge``.

    ``domain_chain_id`` overrides the domain's chain id (tests use it to forge cross-chain replays).
    """
    chain_id = transfer.dst_chain_id if domain_chain_id is None else domain_chain_id
    t = transfer.as_tuple()
    keys = [f["name"] for f in _TRANSFER_TYPE]
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, "Transfer": _TRANSFER_TYPE},
        "primaryType": "Transfer",
        "domain": _domain(chain_id, dst_bridge),
        "message": dict(zip(keys, t, strict=True)),
    }


def rotation_typed_data(
    validators: list[str], threshold: int, epoch: int, chain_id: int, bridge: str
) -> dict[str, Any]:
    """Full EIP-712 typed data of a validator-set rotation approval."""
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, "ValidatorSetRotation": _ROTATION_TYPE},
        "primaryType": "ValidatorSetRotation",
        "domain": _domain(chain_id, bridge),
        "message": {
            "validators": [to_checksum_address(v) for v in validators],
            "threshold": threshold,
            "epoch": epoch,
        },
    }


def sign_typed(private_key: bytes | str, typed_data: dict[str, Any]) -> bytes:
    """65-byte (r, s, v) signature of ``typed_data``."""
    return bytes(Account.sign_typed_data(private_key, full_message=typed_data).signature)


def sign_transfer(private_key: bytes | str, transfer: Transfer, dst_bridge: str) -> bytes:
    """A validator's signature of ``transfer`` for delivery by ``dst_bridge``."""
    return sign_typed(private_key, transfer_typed_data(transfer, dst_bridge))


def sign_rotation(
    private_key: bytes | str, validators: list[str], threshold: int, epoch: int, chain_id: int, bridge: str
) -> bytes:
    """A validator's signature approving the rotation to ``validators`` at ``epoch`` on ``bridge``."""
    return sign_typed(private_key, rotation_typed_data(validators, threshold, epoch, chain_id, bridge))


def ordered_signatures(signatures: dict[str, bytes]) -> list[bytes]:
    """Signatures sorted by ascending signer address, as the bridge requires."""
    return [signatures[s] for s in sorted(signatures, key=lambda a: int(a, 16))]


def sorted_addresses(addresses: list[str]) -> list[str]:
    """Checksummed addresses in ascending numeric order (validator sets must be strictly ascending)."""
    return [to_checksum_address(a) for a in sorted(addresses, key=lambda a: int(a, 16))]
