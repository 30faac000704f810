"""Helpers for the liquidation tests."""

from __future__ import annotations

from eth_utils import keccak

ONE = 10**18
USDC = 10**6
ETH = keccak(text="ETH")


def trade(engine, operator, market: int, maker, taker, size: int, price: int, buy: bool = True, tflags: int = 0):
    """One fee-less fill: ``taker`` buys (or sells) ``size`` from ``maker`` at ``price``."""
    return engine.applyFills([(market, str(maker), str(taker), buy, size, price, 0, tflags)], sender=operator)


def set_price(stack, admin, price: int) -> None:
    stack.oracle.setPrice(ETH, price, sender=admin)


def warp_to(chain, t: int) -> None:
    chain.pending_timestamp = max(t, chain.pending_timestamp)
