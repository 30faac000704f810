"""Liquidity optimiser (seed 000 section 2): a VWAP-anchored two-sided quote ladder as signed orders.

Given recent trades ``(price, size)`` the optimiser computes the VWAP and quotes ``levels`` bids and
asks at ``VWAP * (1 -/+ i * spacing)`` for ``i = 1..levels`` (the seed's ladder starts at the VWAP
itself on one side; a two-sided ladder starts one step away so the maker's own quotes never cross).
Each level carries at least ``min_depth`` USD of notional.

Integer arithmetic throughout, rounded in the market maker's favour *and* onto the market grid:
bid prices round down to the tick, ask prices round up, and sizes round up to the lot so every level's
notional is at least the minimum depth. Quotes are post-only GTC orders, ready to sign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from offchain.matcher.engine import MarketConfig
from offchain.orders.order import FLAG_POST_ONLY, FLAG_VIA_API, ONE_X18, Domain, Order, SignedOrder
from offchain.orders.signing import sign_order, sign_order_with_account


@dataclass(frozen=True)
class Trade:
    """A recent trade: price (USD per base unit, X18) and size (base units, X18)."""

    price_x18: int
    size_x18: int


@dataclass(frozen=True)
class LadderConfig:
    """Ladder shape. Defaults are the seed's: 5 levels, 0.1% steps, 500,000 USD per level."""

    levels: int = 5
    spacing_x18: int = ONE_X18 // 1000
    min_depth_usd_x18: int = 500_000 * ONE_X18

    def __post_init__(self) -> None:
        if self.levels < 1:
            raise ValueError("levels must be at least 1")
        if not 0 < self.spacing_x18 * self.levels < ONE_X18:
            raise ValueError("spacing * levels must be in (0, 100%)")
        if self.min_depth_usd_x18 <= 0:
            raise ValueError("min_depth_usd_x18 must be positive")


@dataclass(frozen=True)
class Quote:
    """One ladder level: side, price and size in X18."""

    is_buy: bool
    level: int
    price_x18: int
    size_x18: int

    @property
    def notional_x18(self) -> int:
        """Price * size in USD X18 (rounded down)."""
        return self.price_x18 * self.size_x18 // ONE_X18


def vwap_x18(trades: Iterable[Trade]) -> int:
    """Volume-weighted average price, rounded down; raises on no volume."""
    value = 0
    volume = 0
    for trade in trades:
        if trade.price_x18 <= 0 or trade.size_x18 <= 0:
            raise ValueError(f"trade with non-positive price or size: {trade}")
        value += trade.price_x18 * trade.size_x18
        volume += trade.size_x18
    if volume == 0:
        raise ValueError("no trades: the VWAP is undefined")
    return value // volume


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def quote_ladder(vwap: int, market: MarketConfig, config: LadderConfig = LadderConfig()) -> list[Quote]:
    """Bids (best first) then asks (best first) around ``vwap`` on the market's grid."""
    tick, lot = market.tick_size_x18, market.lot_size_x18
    quotes = []
    for is_buy in (True, False):
        for i in range(1, config.levels + 1):
            if is_buy:
                raw = vwap * (ONE_X18 - i * config.spacing_x18) // ONE_X18
                price = raw // tick * tick
            else:
                raw = _ceil_div(vwap * (ONE_X18 + i * config.spacing_x18), ONE_X18)
                price = _ceil_div(raw, tick) * tick
            if price <= 0:
                raise ValueError(f"level {i} bid price rounds to zero (vwap {vwap}, tick {tick})")
            size = _ceil_div(_ceil_div(config.min_depth_usd_x18 * ONE_X18, price), lot) * lot
            quotes.append(Quote(is_buy, i, price, size))
    return quotes


def ladder_orders(
    quotes: Iterable[Quote],
    trader: str,
    market: MarketConfig,
    first_nonce: int,
    expiry: int,
    leverage: int = 1,
    max_fee_rate_x18: int = 0,
    via_api: bool = True,
) -> list[Order]:
    """The quotes as post-only GTC orders with consecutive nonces."""
    flags = FLAG_POST_ONLY | (FLAG_VIA_API if via_api else 0)
    orders = []
    for n, q in enumerate(quotes):
        orders.append(
            Order(
                trader=trader,
                marketId=market.market_id,
                isBuy=q.is_buy,
                leg=0,
                flags=flags,
                leverage=leverage,
                size=q.size_x18,
                limitPrice=q.price_x18,
                maxFeeRate=max_fee_rate_x18,
                nonce=first_nonce + n,
                expiry=expiry,
            )
        )
    return orders


def sign_ladder(orders: Iterable[Order], domain: Domain, signer: Any) -> list[SignedOrder]:
    """Sign with a raw private key (bytes/hex/int) or any ape account."""
    if isinstance(signer, bytes | str | int):
        return [sign_order(o, domain, signer) for o in orders]
    return [sign_order_with_account(o, domain, signer) for o in orders]
