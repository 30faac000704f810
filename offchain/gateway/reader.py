"""What the gateway reads from the chain, as an interface, plus an in-memory implementation.

:class:`ChainReader` is injected into the gateway: :class:`~offchain.gateway.web3_reader.Web3ChainReader`
reads the deployed Vault, PerpEngine, MarketRegistry, ComplianceRegistry and Settlement;
:class:`MemoryChainReader` holds the same facts in dictionaries (tests, benchmarks, a matcher-only demo).

Units: every amount is X18 (collateral converted by the engine), prices USD/base X18, rates X18.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

ONE = 10**18
MAX_INT256 = 2**255 - 1


@dataclass(frozen=True)
class PositionView:
    """One open leg: signed ``size_x18``, cost basis, the market's index price and maintenance rate."""

    market_id: int
    leg: int
    size_x18: int
    open_value_x18: int
    index_price_x18: int
    mmr_x18: int
    inverse: bool = False
    liquidation_price_x18: int | None = None


@dataclass(frozen=True)
class AccountState:
    """An account's margin state in one settlement token (X18)."""

    account: str
    token: str
    collateral_x18: int
    equity_x18: int
    initial_margin_x18: int
    maintenance_margin_x18: int
    margin_ratio_x18: int | None  # None: no positions (the engine returns type(int256).max)
    liquidatable: bool
    positions: tuple[PositionView, ...] = ()


class ChainReader(Protocol):
    """On-chain facts the gateway consults. Implementations may block (the gateway calls them off the loop)."""

    def is_allowed(self, account: str) -> bool:
        """ComplianceRegistry.isAllowed: may ``account`` trade (not blocked, allowlisted if enforced)?"""
        ...

    def delegate_expiry(self, trader: str, delegate: str) -> int:
        """Settlement.delegateExpiry(trader, delegate): unix time the API key stops being valid, 0 if none."""
        ...

    def account_states(self, account: str) -> list[AccountState]:
        """The account's margin state in every settlement token it uses (empty if none)."""
        ...


def liquidation_price(position: PositionView, equity_x18: int, maintenance_x18: int) -> int | None:
    """Index price of ``position``'s market at which the account reaches maintenance, other prices fixed.

    Cross margin: the other legs' value and maintenance stay as they are; this leg's value and maintenance
    (``|notional| * mmr``) move with its price. Linear (``s`` base units, value ``s * P``)::

        E + s (P - P0) = MM_other + |s| P mmr   =>   P = (s P0 + MM_other - E) / (s - |s| mmr)

    Inverse (``s`` USD, value in coin ``-s / P``, notional ``|s| / P``)::

        E + s / P0 - s / P = MM_other + |s| mmr / P   =>   P = (s + |s| mmr) / (E + s / P0 - MM_other)

    Returns ``None`` when no positive price liquidates the account (e.g. a fully collateralised long).
    An estimate: funding accrual, dynamic margin rates and rounding move the true threshold slightly.
    """
    s, p0, mmr = position.size_x18, position.index_price_x18, position.mmr_x18
    if s == 0 or p0 <= 0:
        return None
    abs_s = abs(s)
    # All terms in X18 fixed point; exact rational maths via integers scaled by ONE.
    if not position.inverse:
        mm_leg = abs_s * p0 * mmr // (ONE * ONE)
        mm_other = maintenance_x18 - mm_leg
        num = s * p0 // ONE + mm_other - equity_x18  # X18 collateral
        den = s - abs_s * mmr // ONE  # X18 base units
        if den == 0:
            return None
        price = num * ONE // den
    else:
        mm_leg = abs_s * mmr // p0
        mm_other = maintenance_x18 - mm_leg
        num = s + abs_s * mmr // ONE  # X18 USD
        den = equity_x18 + s * ONE // p0 - mm_other  # X18 coin
        if den == 0:
            return None
        price = num * ONE // den
    return price if price > 0 else None


def with_liquidation_prices(state: AccountState) -> AccountState:
    """``state`` with each position's :func:`liquidation_price` filled in."""
    positions = tuple(
        PositionView(
            p.market_id,
            p.leg,
            p.size_x18,
            p.open_value_x18,
            p.index_price_x18,
            p.mmr_x18,
            p.inverse,
            liquidation_price(p, state.equity_x18, state.maintenance_margin_x18),
        )
        for p in state.positions
    )
    return AccountState(
        state.account,
        state.token,
        state.collateral_x18,
        state.equity_x18,
        state.initial_margin_x18,
        state.maintenance_margin_x18,
        state.margin_ratio_x18,
        state.liquidatable,
        positions,
    )


@dataclass
class MemoryChainReader:
    """A :class:`ChainReader` over dictionaries, for tests, benchmarks and chain-less demos.

    ``allow_all``: every account not in ``blocked`` is allowed (an unenforced allowlist); otherwise only
    ``allowed`` accounts are. Addresses are compared case-insensitively.
    """

    allow_all: bool = True
    allowed: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    delegates: dict[tuple[str, str], int] = field(default_factory=dict)
    states: dict[str, list[AccountState]] = field(default_factory=dict)

    def allow(self, account: str) -> None:
        self.allowed.add(account.lower())
        self.blocked.discard(account.lower())

    def block(self, account: str) -> None:
        self.blocked.add(account.lower())

    def authorize(self, trader: str, delegate: str, expiry: int) -> None:
        self.delegates[(trader.lower(), delegate.lower())] = expiry

    def set_state(self, state: AccountState) -> None:
        self.states.setdefault(state.account.lower(), [])
        others = [s for s in self.states[state.account.lower()] if s.token.lower() != state.token.lower()]
        self.states[state.account.lower()] = [*others, state]

    def is_allowed(self, account: str) -> bool:
        key = account.lower()
        if key in self.blocked:
            return False
        return self.allow_all or key in self.allowed

    def delegate_expiry(self, trader: str, delegate: str) -> int:
        return self.delegates.get((trader.lower(), delegate.lower()), 0)

    def account_states(self, account: str) -> list[AccountState]:
        return [with_liquidation_prices(s) for s in self.states.get(account.lower(), [])]
