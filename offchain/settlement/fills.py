"""Fill encoding shared with contracts/settlement/Settlement.sol: call tuples and Merkle leaves.

Leaf data of fill ``i`` of batch ``b`` (104 bytes)::

    abi.encodePacked(uint64 b, bytes32 makerOrderHash, bytes32 takerOrderHash, uint128 size, uint128 price)

The batch id in every leaf makes each batch root unique, so a root can never be settled twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from offchain.orders.order import Order, SignedOrder
from offchain.settlement.merkle import BatchTree

LEAF_BYTES = 104


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

    def as_tuple(self) -> tuple:
        """The ``ISettlement.SignedFill`` ABI tuple."""
        return (
            order_tuple(self.maker.order),
            order_tuple(self.taker.order),
            self.maker.signature,
            self.taker.signature,
            self.size_x18,
            self.price_x18,
        )

    def leaf(self, batch_id: int) -> bytes:
        """This fill's leaf data in batch ``batch_id``."""
        return fill_leaf(batch_id, self.maker.hash, self.taker.hash, self.size_x18, self.price_x18)


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
