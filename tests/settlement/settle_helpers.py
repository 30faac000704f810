"""Helpers for the Settlement tests: order builder, signer, fill tuples."""

from __future__ import annotations

from dataclasses import replace

from eth_utils import keccak
from helpers import make_order

from offchain.orders.order import Domain, Order, SignedOrder
from offchain.orders.signing import sign_order
from offchain.settlement.chain import ApeChainClient, SettlementRevert
from offchain.settlement.fills import SettlementFill, batch_tree, encode_batch

ONE = 10**18
USDC = 10**6
ETH = keccak(text="ETH")
BTC = keccak(text="BTC")
TREASURY = "0x00000000000000000000000000000000000000A1"
INSURANCE = "0x00000000000000000000000000000000000000A2"
TICK = 10**14
LOT = 10**15
PRICE = 2_000 * ONE
FAR = 2**40


def key_of(account) -> bytes:
    """The private key of an ape test account."""
    return bytes.fromhex(str(account.private_key).removeprefix("0x"))


def order(trader, *, buy: bool, size: int = ONE, price: int = PRICE, nonce: int = 1, **kw) -> Order:
    """A one-way order on market 1 with generous defaults (fee cap 1%, far expiry, 10x)."""
    return make_order(trader, buy=buy, size=size, price=price, nonce=nonce, **kw)


class Signer:
    """Signs orders for one Settlement domain with the keys of ape test accounts (or raw keys)."""

    def __init__(self, domain: Domain):
        self.domain = domain

    def sign(self, o: Order, key: bytes | None = None, account=None) -> SignedOrder:
        return sign_order(o, self.domain, key if key is not None else key_of(account))

    def fill(self, maker_order: Order, maker_acct, taker_order: Order, taker_acct, size: int | None = None,
             price: int | None = None) -> SettlementFill:  # fmt: skip
        return SettlementFill(
            self.sign(maker_order, account=maker_acct),
            self.sign(taker_order, account=taker_acct),
            maker_order.size if size is None else size,
            maker_order.limitPrice if price is None else price,
        )


def with_sig(fill: SettlementFill, *, maker_sig: bytes | None = None, taker_sig: bytes | None = None) -> SettlementFill:
    """A copy of ``fill`` with replaced signature bytes (hashes are recomputed from the orders)."""
    maker = SignedOrder(fill.maker.order, maker_sig, fill.maker.domain) if maker_sig is not None else fill.maker
    taker = SignedOrder(fill.taker.order, taker_sig, fill.taker.domain) if taker_sig is not None else fill.taker
    return replace(fill, maker=maker, taker=taker)


def settle(settlement, operator, fills: list[SettlementFill], batch_id: int | None = None, root: bytes | None = None):
    """Submit ``fills`` as the next batch (or ``batch_id``), with the root computed off chain."""
    bid = settlement.lastBatchId() + 1 if batch_id is None else batch_id
    if root is None:
        root = batch_tree(bid, fills).root
    return settlement.settleBatch(bid, root, encode_batch(fills), sender=operator)


def engine_error(settlement, engine, operator, fills: list[SettlementFill], name: str, **inputs) -> None:
    """Assert that settling ``fills`` as the next batch reverts with the engine's custom error ``name`` and the
    given inputs. Simulated with ``eth_call`` (ape decodes a transaction's revert with the called contract's ABI
    only, and on anvil traces the whole transaction trying): the same code path, decoded strictly."""
    import pytest
    from ape import chain

    client = ApeChainClient(settlement, engine, operator, chain.provider)
    bid = settlement.lastBatchId() + 1
    with pytest.raises(SettlementRevert) as info:
        client.prepare(bid, batch_tree(bid, fills).root, fills)
    err = info.value
    assert err.name == name, f"expected {name}, got {err}"
    for key, value in inputs.items():
        got = err.inputs[key]
        if isinstance(value, str):
            value, got = value.lower(), str(got).lower()
        assert got == value, f"{name}.{key}: expected {value!r}, got {got!r}"
