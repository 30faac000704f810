"""The demo's participants: traders with their own keys, and the price world the oracle sources read.

Traders are extra test accounts (funded with gas by the local node) whose private keys sign their orders;
oracle sources are the ``dev:source-N`` keys of the local configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offchain.orders.order import Domain, Order, SignedOrder
from offchain.orders.signing import sign_order

ONE = 10**18


@dataclass
class Trader:
    """An account that deposits and signs orders; ``nonce`` counts its orders."""

    name: str
    account: Any
    key: bytes
    nonce: int = 0

    @property
    def address(self) -> str:
        return str(self.account.address)

    def order(
        self,
        domain: Domain,
        market: int,
        is_buy: bool,
        size_x18: int,
        price_x18: int,
        *,
        flags: int = 0,
        leverage: int = 10,
        leg: int = 0,
        expiry: int,
        max_fee_rate_x18: int = ONE // 100,
    ) -> SignedOrder:
        """Sign a fresh order (next nonce)."""
        self.nonce += 1
        order = Order(
            self.address,
            market,
            is_buy,
            leg,
            flags,
            leverage,
            size_x18,
            price_x18,
            max_fee_rate_x18,
            self.nonce,
            expiry,
        )
        return sign_order(order, domain, self.key)


def new_trader(accounts: Any, name: str, gas_wei: int = 10**20) -> Trader:
    """A freshly generated test account with gas money (anvil sets the balance)."""
    account = accounts.generate_test_account()
    account.balance = gas_wei
    return Trader(name, account, bytes.fromhex(str(account.private_key).removeprefix("0x")))


@dataclass
class PriceWorld:
    """The "real" price of each asset, which honest sources report and a faulty one distorts.

    Each source is a :class:`~offchain.oracle.feeds.PriceFeed` (``price_x18(symbol, now)``) over this world.
    """

    prices: dict[str, int]
    history: list[tuple[int, str, int]] = field(default_factory=list)

    def move(self, symbol: str, factor_bps: int, now: int) -> int:
        """Move ``symbol`` by ``factor_bps`` (10_000 = unchanged); returns the new price."""
        self.prices[symbol] = self.prices[symbol] * factor_bps // 10_000
        self.history.append((now, symbol, self.prices[symbol]))
        return self.prices[symbol]

    def feed(self, name: str, bias_bps: int = 0) -> WorldFeed:
        return WorldFeed(self, name, bias_bps)


@dataclass
class WorldFeed:
    """A source's view of the world; ``bias_bps`` != 0 makes it a misbehaving source."""

    world: PriceWorld
    name: str
    bias_bps: int = 0

    def price_x18(self, symbol: str, now: int) -> int:
        from offchain.oracle.feeds import FeedError

        if symbol not in self.world.prices:
            raise FeedError(f"{self.name}: no price for {symbol}")
        return self.world.prices[symbol] * (10_000 + self.bias_bps) // 10_000
