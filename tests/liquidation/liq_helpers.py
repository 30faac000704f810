"""Helpers for the liquidation tests."""

from __future__ import annotations

from eth_utils import keccak
from helpers import static_revert_error

ONE = 10**18
USDC = 10**6
ETH = keccak(text="ETH")
LINEAR = 1  # the linear ETH-USDC market of the l_stack fixture
INVERSE = 2  # the inverse ETH-WETH market


def trade(engine, operator, market: int, maker, taker, size: int, price: int, buy: bool = True, tflags: int = 0):
    """One fee-less fill: ``taker`` buys (or sells) ``size`` from ``maker`` at ``price``."""
    return engine.applyFills([(market, str(maker), str(taker), buy, size, price, 0, tflags)], sender=operator)


def set_price(stack, admin, price: int) -> None:
    stack.oracle.setPrice(ETH, price, sender=admin)


def warp_to(chain, t: int) -> None:
    chain.pending_timestamp = max(t, chain.pending_timestamp)


def static_revert(contract, method: str, *args, sender, also=()) -> str | None:
    """The name of the custom error ``method`` would revert with (:func:`helpers.static_revert_error` at
    the latest block), None if it would succeed."""
    error = static_revert_error(contract, method, *args, sender=sender, also=tuple(also))
    return error if error is None or isinstance(error, str) else type(error).__name__


def revert_name(contract, method: str, *args, sender, also=()) -> str:
    """:func:`static_revert` that must revert."""
    name = static_revert(contract, method, *args, sender=sender, also=also)
    assert name is not None, f"{method}{args} did not revert"
    return name
