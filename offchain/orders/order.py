"""The EIP-712 ``Order`` of the Settlement contract, and its struct hash and digest.

The struct is fixed (the contract implements exactly this field list and order)::

    Order(address trader,uint32 marketId,bool isBuy,uint8 leg,uint16 flags,uint16 leverage,
          uint128 size,uint128 limitPrice,uint64 maxFeeRate,uint64 nonce,uint64 expiry)

under the domain ``EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)``
with ``name = "perpx Settlement"`` and ``version = "1"``. The digest equals OpenZeppelin
``EIP712._hashTypedDataV4(keccak256(abi.encode(ORDER_TYPEHASH, ...fields)))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from eth_utils import is_address, to_canonical_address, to_checksum_address

from offchain.eip712 import EIP712_DOMAIN_TYPE

try:  # C keccak (safe-pysha3, installed with pymerkle[keccak]); eth_utils' wrapper is ~2x slower
    from _pysha3 import keccak_256 as _keccak_256

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's, not SHA3-256)."""
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - depends on the installed backend
    from eth_utils import keccak as _eth_keccak

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's, not SHA3-256)."""
        return _eth_keccak(data)


def keccak(data: bytes = b"", *, text: str | None = None) -> bytes:
    """``eth_utils.keccak``-compatible helper."""
    return keccak256(text.encode() if text is not None else data)


@lru_cache(maxsize=1 << 16)
def checksum_address(value: str) -> str:
    """EIP-55 form of an address string, or ``ValueError``; cached (traders and contracts repeat)."""
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    return to_checksum_address(value)


DOMAIN_NAME = "perpx Settlement"
DOMAIN_VERSION = "1"

ORDER_TYPE_STRING = (
    "Order(address trader,uint32 marketId,bool isBuy,uint8 leg,uint16 flags,uint16 leverage,"
    "uint128 size,uint128 limitPrice,uint64 maxFeeRate,uint64 nonce,uint64 expiry)"
)
DOMAIN_TYPE_STRING = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
ORDER_TYPEHASH: bytes = keccak(text=ORDER_TYPE_STRING)
DOMAIN_TYPEHASH: bytes = keccak(text=DOMAIN_TYPE_STRING)

# Order.flags bits.
FLAG_REDUCE_ONLY = 1
FLAG_POST_ONLY = 2
FLAG_IOC = 4
FLAG_FOK = 8
FLAG_VIA_API = 16
ALL_FLAGS = FLAG_REDUCE_ONLY | FLAG_POST_ONLY | FLAG_IOC | FLAG_FOK | FLAG_VIA_API

# Order.leg values.
LEG_ONE_WAY = 0
LEG_LONG = 1
LEG_SHORT = 2

MAX_LEVERAGE = 50
ONE_X18 = 10**18

# (name, solidity type, bit width) in struct order; the width bounds-checks Python ints.
ORDER_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("trader", "address", 160),
    ("marketId", "uint32", 32),
    ("isBuy", "bool", 1),
    ("leg", "uint8", 8),
    ("flags", "uint16", 16),
    ("leverage", "uint16", 16),
    ("size", "uint128", 128),
    ("limitPrice", "uint128", 128),
    ("maxFeeRate", "uint64", 64),
    ("nonce", "uint64", 64),
    ("expiry", "uint64", 64),
)


@dataclass(frozen=True)
class Domain:
    """The Settlement deployment an order is bound to (chain id + contract address)."""

    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "verifying_contract", checksum_address(self.verifying_contract))
        except ValueError:
            raise ValueError(f"verifying_contract is not an address: {self.verifying_contract!r}") from None
        if not 0 < self.chain_id < 2**256:
            raise ValueError(f"chain_id out of range: {self.chain_id}")

    @cached_property
    def separator(self) -> bytes:
        """``_domainSeparatorV4()`` of the Settlement contract."""
        return _domain_separator(self.chain_id, self.verifying_contract)

    def as_eip712(self) -> dict[str, Any]:
        """The domain in eth-account ``encode_typed_data`` form."""
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@lru_cache(maxsize=256)
def _domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return keccak(
        DOMAIN_TYPEHASH
        + keccak(text=DOMAIN_NAME)
        + keccak(text=DOMAIN_VERSION)
        + chain_id.to_bytes(32, "big")
        + to_canonical_address(verifying_contract).rjust(32, b"\x00")
    )


@dataclass(frozen=True)
class Order:
    """One signed-order payload. Units: ``size`` base units X18, ``limitPrice`` USD/base X18,
    ``maxFeeRate`` X18 (1e18 = 100%), ``expiry`` unix seconds."""

    trader: str
    marketId: int
    isBuy: bool
    leg: int
    flags: int
    leverage: int
    size: int
    limitPrice: int
    maxFeeRate: int
    nonce: int
    expiry: int

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "trader", checksum_address(self.trader))
        except ValueError:
            raise ValueError(f"trader is not an address: {self.trader!r}") from None
        if not isinstance(self.isBuy, bool):
            raise TypeError(f"isBuy must be a bool, got {self.isBuy!r}")
        for name, sol_type, bits in ORDER_FIELDS[1:]:
            value = getattr(self, name)
            if sol_type == "bool":
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {value!r}")
            if not 0 <= value < 1 << bits:
                raise ValueError(f"{name}={value} does not fit {sol_type}")

    @property
    def struct_hash(self) -> bytes:
        """``keccak256(abi.encode(ORDER_TYPEHASH, ...fields))``."""
        words = [ORDER_TYPEHASH, to_canonical_address(self.trader).rjust(32, b"\x00")]
        words += [int(getattr(self, name)).to_bytes(32, "big") for name, _, _ in ORDER_FIELDS[1:]]
        return keccak256(b"".join(words))

    def digest(self, domain: Domain) -> bytes:
        """``_hashTypedDataV4(struct_hash)``: the 32 bytes a signer signs and the order's id."""
        return keccak256(b"\x19\x01" + domain.separator + self.struct_hash)

    def as_message(self) -> dict[str, Any]:
        """The order as an EIP-712 message dict (field name -> value)."""
        return {name: getattr(self, name) for name, _, _ in ORDER_FIELDS}

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """Full EIP-712 typed data (eth-account ``encode_typed_data(full_message=...)`` form)."""
        return {
            "types": {
                "EIP712Domain": EIP712_DOMAIN_TYPE,
                "Order": [{"name": name, "type": sol_type} for name, sol_type, _ in ORDER_FIELDS],
            },
            "primaryType": "Order",
            "domain": domain.as_eip712(),
            "message": self.as_message(),
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Order:
        """Inverse of :meth:`as_message` (accepts exactly the struct's field names)."""
        expected = {name for name, _, _ in ORDER_FIELDS}
        if set(message) != expected:
            raise ValueError(
                f"order fields mismatch: missing {expected - set(message)}, extra {set(message) - expected}"
            )
        values = {name: message[name] for name, _, _ in ORDER_FIELDS}
        values["isBuy"] = bool(values["isBuy"])
        return cls(**values)


@dataclass(frozen=True)
class SignedOrder:
    """An order, the domain it was signed for, and its 65-byte ``r||s||v`` signature."""

    order: Order
    signature: bytes
    domain: Domain
    hash: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.signature) != 65:
            raise ValueError(f"signature must be 65 bytes r||s||v, got {len(self.signature)}")
        object.__setattr__(self, "hash", self.order.digest(self.domain))

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (ints kept as ints, bytes as 0x-hex)."""
        return {
            "order": self.order.as_message(),
            "signature": "0x" + self.signature.hex(),
            "chainId": self.domain.chain_id,
            "verifyingContract": self.domain.verifying_contract,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedOrder:
        """Inverse of :meth:`to_json`."""
        return cls(
            Order.from_message(data["order"]),
            bytes.fromhex(data["signature"].removeprefix("0x")),
            Domain(int(data["chainId"]), data["verifyingContract"]),
        )
