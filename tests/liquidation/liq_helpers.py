"""Helpers for the liquidation tests."""

from __future__ import annotations

from ape import networks
from eth_utils import keccak
from hexbytes import HexBytes
from web3.exceptions import ContractCustomError as Web3ContractCustomError

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


def static_revert(contract, method: str, *args, sender, also=()) -> str | None:
    """``eth_call`` a state-changing ``method`` as ``sender`` (at the latest block) and return the name
    of the custom error it reverts with, decoded against ``contract`` then ``also``; None if it would
    succeed. A reverting *transaction* would make ape walk the whole step trace to enrich the error
    (tens of seconds per revert on a busy machine)."""
    data = getattr(contract, method).encode_input(*args)
    try:
        networks.provider.web3.eth.call({"from": str(sender), "to": contract.address, "data": data})
    except Web3ContractCustomError as err:
        for c in (contract, *also):
            decoded = networks.provider.network.ecosystem.decode_custom_error(HexBytes(err.data), c.address)
            if decoded is not None:
                return type(decoded).__name__
        return f"undecoded {err.data}"
    return None


def revert_name(contract, method: str, *args, sender, also=()) -> str:
    """:func:`static_revert` that must revert."""
    name = static_revert(contract, method, *args, sender=sender, also=also)
    assert name is not None, f"{method}{args} did not revert"
    return name
