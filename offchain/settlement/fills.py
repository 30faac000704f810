"""Fill encoding shared with contracts/settlement/Settlement.sol: the packed batch and Merkle leaves.

Batch calldata (``contracts/libraries/PackedFills.sol``), big-endian, no padding::

    batch = uint16 fillCount || fill * fillCount
    fill  = order(maker) || sig(maker) || order(taker) || sig(taker) || uint128 size || uint128 price
    order = abi.encodePacked(trader, uint32 marketId, uint8 isBuy, uint8 leg, uint16 flags, uint16 leverage,
            uint128 size, uint128 limitPrice, uint64 maxFeeRate, uint64 nonce, uint64 expiry)   (86 bytes)
    sig   = uint16 length || bytes: a 65-byte ECDSA signature that recovers to the order's trader is sent in
            its 64-byte EIP-2098 form ``r || vs``; anything else (delegate keys, ERC-1271 payloads) as is.

Leaf data of fill ``i`` of batch ``b`` (104 bytes)::

    abi.encodePacked(uint64 b, bytes32 makerOrderHash, bytes32 takerOrderHash, uint128 size, uint128 price)

The batch id in every leaf makes each batch root unique, so a root can never be settled twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils import to_canonical_address

from offchain.orders.order import ORDER_FIELDS, Order, SignedOrder
from offchain.orders.signing import SignatureError, recover_signer_bytes
from offchain.settlement.merkle import BatchTree

LEAF_BYTES = 104
ORDER_BYTES = 86
MAX_BATCH_FILLS = 2**16 - 1


@dataclass(frozen=True)
class SettlementFill:
    """One matched fill as Settlement.settleBatch takes it (the matcher's ``Fill`` has the same fields)."""

    maker: SignedOrder
    taker: SignedOrder
    size_x18: int
    price_x18: int

    @classmethod
    def of(cls, fill: object) -> SettlementFill:
        """Adapt any object with ``maker``, ``taker``, ``size_x18`` and ``price_x18`` (e.g. a matcher Fill)."""
        if isinstance(fill, SettlementFill):
            return fill
        return cls(fill.maker, fill.taker, fill.size_x18, fill.price_x18)  # type: ignore[attr-defined]

    def packed(self) -> bytes:
        """This fill in the batch encoding (see the module docstring)."""
        if not (0 <= self.size_x18 < 1 << 128 and 0 <= self.price_x18 < 1 << 128):
            raise ValueError("size and price must fit uint128")
        return (
            pack_order(self.maker.order)
            + pack_signature(self.maker)
            + pack_order(self.taker.order)
            + pack_signature(self.taker)
            + self.size_x18.to_bytes(16, "big")
            + self.price_x18.to_bytes(16, "big")
        )

    def leaf(self, batch_id: int) -> bytes:
        """This fill's leaf data in batch ``batch_id``."""
        return fill_leaf(batch_id, self.maker.hash, self.taker.hash, self.size_x18, self.price_x18)


def encode_batch(fills: Sequence[SettlementFill]) -> bytes:
    """The ``fills`` argument of ``Settlement.settleBatch``: ``uint16 count`` then each packed fill."""
    if not 0 < len(fills) <= MAX_BATCH_FILLS:
        raise ValueError(f"a batch holds 1..{MAX_BATCH_FILLS} fills, got {len(fills)}")
    return len(fills).to_bytes(2, "big") + b"".join(f.packed() for f in fills)


def pack_order(order: Order) -> bytes:
    """``abi.encodePacked`` of the order's fields (86 bytes; ``isBuy`` as one byte)."""
    m = order.as_message()
    out = bytearray(to_canonical_address(m["trader"]))
    for name, _, bits in ORDER_FIELDS[1:]:
        width = 1 if bits == 1 else bits // 8
        out += int(m[name]).to_bytes(width, "big")
    return bytes(out)


def pack_signature(signed: SignedOrder) -> bytes:
    """``uint16 length || signature``; the trader's own ECDSA signature in EIP-2098 form (64 bytes)."""
    sig = signed.signature
    try:
        own = recover_signer_bytes(signed.hash, sig) == to_canonical_address(signed.order.trader)
    except SignatureError:
        own = False
    if own:
        vs = int.from_bytes(sig[32:64], "big") | ((sig[64] - 27) << 255)
        sig = sig[:32] + vs.to_bytes(32, "big")
    return len(sig).to_bytes(2, "big") + sig


def order_tuple(order: Order) -> tuple:
    """The ``ISettlement.Order`` ABI tuple, fields in struct order."""
    m = order.as_message()
    return tuple(m[name] for name in m)


def fill_leaf(batch_id: int, maker_hash: bytes, taker_hash: bytes, size_x18: int, price_x18: int) -> bytes:
    """``abi.encodePacked(uint64 batchId, makerHash, takerHash, uint128 size, uint128 price)``."""
    if len(maker_hash) != 32 or len(taker_hash) != 32:
        raise ValueError("order hashes must be 32 bytes")
    for name, value, bits in (("batch_id", batch_id, 64), ("size", size_x18, 128), ("price", price_x18, 128)):
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{name}={value} does not fit uint{bits}")
    return (
        batch_id.to_bytes(8, "big")
        + maker_hash
        + taker_hash
        + size_x18.to_bytes(16, "big")
        + price_x18.to_bytes(16, "big")
    )


def batch_tree(batch_id: int, fills: Sequence[SettlementFill]) -> BatchTree:
    """The batch's Merkle tree (pymerkle, keccak_256, RFC 9162), equal to the one the contract builds."""
    return BatchTree([f.leaf(batch_id) for f in fills])


@dataclass(frozen=True)
class SettledFill:
    """One fill record of a ``BatchSettled`` event."""

    maker_hash: bytes
    taker_hash: bytes
    size_x18: int
    price_x18: int

    def leaf(self, batch_id: int) -> bytes:
        """The fill's leaf data in batch ``batch_id``."""
        return fill_leaf(batch_id, self.maker_hash, self.taker_hash, self.size_x18, self.price_x18)


RECORD_BYTES = 96


def settled_fills(records: bytes) -> list[SettledFill]:
    """Decodes the ``fills`` field of ``BatchSettled`` (96 bytes per fill, leaf order)."""
    if len(records) % RECORD_BYTES:
        raise ValueError(f"BatchSettled fills: {len(records)} bytes is not a multiple of {RECORD_BYTES}")
    out = []
    for k in range(0, len(records), RECORD_BYTES):
        r = records[k : k + RECORD_BYTES]
        out.append(SettledFill(r[:32], r[32:64], int.from_bytes(r[64:80], "big"), int.from_bytes(r[80:96], "big")))
    return out
