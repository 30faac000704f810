"""In-memory mirror of the engine's accounts and positions, built from events.

The liquidation keeper keeps one :class:`AccountMirror`, feeds it every engine/Vault event, and on each
oracle update re-evaluates every account in a vectorised float scan (:meth:`AccountMirror.scan`); the few
accounts the scan puts near or below maintenance are then checked exactly (:meth:`exact_health`, integer
maths mirroring the engine's rounding) before any transaction is sent. Chain reads are limited to the
cash (Vault balance + unsettled ledger) of accounts an event touched, once per block, never one call per
account per block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from offchain.perp import math as pm

ONE = 10**18
#: Relative tolerance of the float scan: accounts whose float health is within this fraction of their
#: notional (plus one unit) of the threshold are re-checked exactly.
SCAN_TOLERANCE = 1e-9


@dataclass
class MarketInfo:
    """What health needs of a market."""

    asset: bytes
    token: str
    inverse: bool
    mmr: int = 0
    funding_index: int = 0


@dataclass
class LegState:
    """A position leg as the engine stores it."""

    size: int
    open_value: int
    snapshot: int


@dataclass
class Health:
    """Exact equity and maintenance requirement of an (account, token)."""

    equity: int
    maintenance: int

    @property
    def liquidatable(self) -> bool:
        return self.equity < self.maintenance


@dataclass
class AccountMirror:
    """Positions, funding indices and cash per account, updated from events."""

    markets: dict[int, MarketInfo] = field(default_factory=dict)
    legs: dict[str, dict[tuple[int, int], LegState]] = field(default_factory=dict)
    cash: dict[tuple[str, str], int] = field(default_factory=dict)
    dirty_cash: set[tuple[str, str]] = field(default_factory=set)
    _arrays: dict[str, tuple] | None = None

    # ------------------------------------------------------------------ events

    def apply(self, name: str, args: dict) -> None:
        """Apply one decoded event (``name`` and its arguments)."""
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(args)

    def _token_of(self, market: int) -> str:
        return self.markets[market].token

    def _on_PositionUpdated(self, a: dict) -> None:
        account, market = str(a["account"]), int(a["marketId"])
        legs = self.legs.setdefault(account, {})
        key = (market, int(a["leg"]))
        size = int(a["sizeX18"])
        if size == 0:
            legs.pop(key, None)
        else:
            legs[key] = LegState(size, int(a["openValueX18"]), self.markets[market].funding_index)
        self.dirty_cash.add((account, self._token_of(market)))
        self._arrays = None

    def _on_FundingAccrued(self, a: dict) -> None:
        self.markets[int(a["marketId"])].funding_index = int(a["indexX18"])
        self._arrays = None

    def _on_FundingSettled(self, a: dict) -> None:
        account, market = str(a["account"]), int(a["marketId"])
        leg = self.legs.get(account, {}).get((market, int(a["leg"])))
        if leg is not None:
            leg.snapshot = self.markets[market].funding_index
        self.dirty_cash.add((account, self._token_of(market)))
        self._arrays = None

    def _touch(self, account: str, token: str) -> None:
        self.dirty_cash.add((str(account), str(token)))
        self._arrays = None

    def _on_Deposited(self, a: dict) -> None:
        self._touch(a["account"], a["token"])

    def _on_Withdrawn(self, a: dict) -> None:
        self._touch(a["account"], a["token"])

    def _on_InternalTransfer(self, a: dict) -> None:
        self._touch(a["from"], a["token"])
        self._touch(a["to"], a["token"])

    def _on_LiquidationTransfer(self, a: dict) -> None:
        self._touch(a["from"], a["token"])
        self._touch(a["to"], a["token"])

    def _on_FeesDistributed(self, a: dict) -> None:  # treasury/fund ledgers: not traders, nothing to do
        return

    def refresh_cash(self, fetch: Callable[[str, str], int]) -> int:
        """Re-read the cash of every touched (account, token); returns the number of reads."""
        n = 0
        for account, token in sorted(self.dirty_cash):
            self.cash[(account, token)] = fetch(account, token)
            n += 1
        self.dirty_cash.clear()
        self._arrays = None
        return n

    # ------------------------------------------------------------------ health

    def accounts(self) -> Iterable[str]:
        return self.legs.keys()

    def exact_health(self, account: str, token: str, prices: dict[int, int]) -> Health:
        """Equity (rounded down) and maintenance (rounded up) exactly as the engine computes them."""
        equity = self.cash.get((account, token), 0)
        maintenance = 0
        for (market, _leg), p in self.legs.get(account, {}).items():
            info = self.markets[market]
            if info.token != token:
                continue
            price = prices[market]
            equity += pm.mark_value_floor(info.inverse, p.size, price) - p.open_value
            equity -= pm.funding_owed_up(p.size, info.funding_index - p.snapshot)
            maintenance += pm.mul_rate_up(pm.notional_up(info.inverse, abs(p.size), price), info.mmr)
        return Health(equity, maintenance)

    def _build_arrays(self) -> dict[str, tuple]:
        """Per token: account list, cash vector, and per-leg (account index, market, size, open, snapshot)."""
        out: dict[str, tuple] = {}
        per_token: dict[str, dict[str, int]] = {}
        rows: dict[str, list[tuple[int, int, float, float, float]]] = {}
        for account, legs in self.legs.items():
            for (market, _leg), p in legs.items():
                token = self.markets[market].token
                index = per_token.setdefault(token, {})
                i = index.setdefault(account, len(index))
                rows.setdefault(token, []).append((i, market, p.size / ONE, p.open_value / ONE, p.snapshot / ONE))
        for token, index in per_token.items():
            names = list(index)
            cash = np.array([self.cash.get((a, token), 0) / ONE for a in names], dtype=np.float64)
            r = rows[token]
            acct = np.fromiter((x[0] for x in r), dtype=np.int64, count=len(r))
            mkt = np.fromiter((x[1] for x in r), dtype=np.int64, count=len(r))
            size = np.fromiter((x[2] for x in r), dtype=np.float64, count=len(r))
            open_ = np.fromiter((x[3] for x in r), dtype=np.float64, count=len(r))
            snap = np.fromiter((x[4] for x in r), dtype=np.float64, count=len(r))
            out[token] = (names, cash, acct, mkt, size, open_, snap)
        return out

    def scan(self, prices: dict[int, int]) -> list[tuple[str, str]]:
        """Every (account, token) whose float health is below maintenance or within the tolerance band.

        Vectorised: one pass over all legs per token. The result is a superset of the liquidatable
        accounts (up to float error, bounded by the tolerance); confirm each with :meth:`exact_health`.
        """
        if self._arrays is None:
            self._arrays = self._build_arrays()
        found: list[tuple[str, str]] = []
        for token, (names, cash, acct, mkt, size, open_, snap) in self._arrays.items():
            max_market = int(mkt.max()) + 1 if len(mkt) else 1
            price_v = np.zeros(max_market)
            mmr_v = np.zeros(max_market)
            fidx_v = np.zeros(max_market)
            inv_v = np.zeros(max_market, dtype=bool)
            for m, info in self.markets.items():
                if m < max_market and m in prices:
                    price_v[m] = prices[m] / ONE
                    mmr_v[m] = info.mmr / ONE
                    fidx_v[m] = info.funding_index / ONE
                    inv_v[m] = info.inverse
            p = price_v[mkt]
            if inv_v.any():
                inv = inv_v[mkt]
                safe_p = np.where(p > 0, p, 1.0)
                value = np.where(inv, -size / safe_p, size * p)
                notional = np.abs(np.where(inv, size / safe_p, size * p))
            else:
                value = size * p
                notional = np.abs(value)
            # per leg: pnl - maintenance - tolerance; per account: summed, plus cash less its tolerance
            leg_slack = value - open_ - size * (fidx_v[mkt] - snap) - notional * (mmr_v[mkt] + SCAN_TOLERANCE)
            slack = (
                cash
                - SCAN_TOLERANCE * np.abs(cash)
                - 1e-12
                + np.bincount(acct, weights=leg_slack, minlength=len(names))
            )
            for i in np.nonzero(slack < 0)[0]:
                found.append((names[int(i)], token))
        return found
