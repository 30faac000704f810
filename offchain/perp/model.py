"""Pure-Python reference model of the perpetual engine (PerpEngine, PerpLedger, FeeSchedule).

Integers reproduce the contracts to the wei; ``exact_*`` methods use ``fractions.Fraction`` so tests
can check that requirements round up and equity rounds down (SECURITY P7). A rejected action raises
:class:`ModelRevert` carrying the custom error name the contract is expected to raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from offchain.perp import math as pm

LEG_NET, LEG_LONG, LEG_SHORT = 0, 1, 2
FLAG_API, FLAG_REDUCE_ONLY, FLAG_SHORT_LEG = 1, 2, 4
MAX_OPEN_MARKETS = 8
WINDOW_DAYS = 30
ACTIVE, REDUCE_ONLY, PAUSED, SETTLED = 1, 2, 3, 4


class ModelRevert(Exception):
    """The contract is expected to revert with custom error ``error``."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error


@dataclass
class MarketSpec:
    """Mirror of IMarketRegistry.Market (risk and trading parameters)."""

    asset: bytes
    token: str
    inverse: bool
    imr: int
    mmr_base: int
    vol_factor: int
    mmr_max: int
    tick: int
    lot: int
    min_notional: int = 0
    oi_cap: int = 0
    max_position: int = 0
    status: int = ACTIVE
    imr_slope: int = 0


@dataclass
class Leg:
    """One position leg."""

    size: int = 0
    open_value: int = 0
    snapshot: int = 0


@dataclass
class MarketState:
    """Per-market aggregates."""

    long_oi: int = 0
    short_oi: int = 0
    index: int = 0
    weight: int = 0
    pool: int = 0


@dataclass
class Tier:
    """One fee tier."""

    min_volume: int
    taker: int
    maker_rebate: int


@dataclass
class Fill:
    """Mirror of IPerpEngine.Fill."""

    market: int
    maker: str
    taker: str
    taker_is_buy: bool
    size: int
    price: int
    maker_flags: int = 0
    taker_flags: int = 0

    def as_tuple(self) -> tuple:
        """ABI tuple for PerpEngine.applyFills."""
        return (
            self.market,
            self.maker,
            self.taker,
            self.taker_is_buy,
            self.size,
            self.price,
            self.maker_flags,
            self.taker_flags,
        )


@dataclass
class AccountState:
    """Equity and requirements of an account in one token."""

    equity: int
    pnl: int
    initial: int
    maintenance: int


@dataclass
class EngineModel:
    """The engine's ledger, positions, fees and funding, with the Vault balances it reads."""

    markets: dict[int, MarketSpec] = field(default_factory=dict)
    prices: dict[bytes, int] = field(default_factory=dict)
    volatility: dict[bytes, int] = field(default_factory=dict)
    unhealthy: set[bytes] = field(default_factory=set)
    vault: dict[tuple[str, str], int] = field(default_factory=dict)
    legs: dict[tuple[str, int, int], Leg] = field(default_factory=dict)
    hedge: set[tuple[str, int]] = field(default_factory=set)
    unsettled: dict[tuple[str, str], int] = field(default_factory=dict)
    fee_pool: dict[str, int] = field(default_factory=dict)
    states: dict[int, MarketState] = field(default_factory=dict)
    tiers: list[Tier] = field(default_factory=lambda: [Tier(i, 0, 0) for i in range(6)])
    api_discount: int = 0
    insurance_share: int = 0
    volumes: dict[str, dict[int, int]] = field(default_factory=dict)
    engine: str = "engine"

    # ------------------------------------------------------------------ helpers

    def leg(self, account: str, market: int, leg: int) -> Leg:
        """The leg (created empty on first use)."""
        return self.legs.setdefault((account, market, leg), Leg())

    def state(self, market: int) -> MarketState:
        """The market's aggregates."""
        return self.states.setdefault(market, MarketState())

    def open_markets(self, account: str, token: str) -> list[int]:
        """Markets in ``token`` where ``account`` has an open leg."""
        out = []
        for mid, spec in self.markets.items():
            if spec.token == token and any(self.leg(account, mid, lg).size for lg in (0, 1, 2)):
                out.append(mid)
        return out

    def mmr(self, market: int) -> int:
        """Dynamic maintenance rate, as MarketRegistry.maintenanceRate."""
        s = self.markets[market]
        sigma = self.volatility.get(s.asset, 0)
        return min(s.mmr_base + pm.mul_div(s.vol_factor, sigma, pm.ONE, up=True), s.mmr_max)

    # ------------------------------------------------------------------ fees

    def trailing_volume(self, account: str, day: int) -> int:
        """Volume over ``day`` and the 29 days before."""
        book = self.volumes.get(account, {})
        return sum(v for d, v in book.items() if day - WINDOW_DAYS < d <= day)

    def tier_of(self, account: str, day: int) -> int:
        """Fee tier index."""
        vol = self.trailing_volume(account, day)
        for i in range(5, 0, -1):
            if vol >= self.tiers[i].min_volume:
                return i
        return 0

    def quote(self, maker: str, taker: str, notional: int, taker_api: bool, day: int) -> tuple[int, int]:
        """(taker fee, maker rebate) as FeeSchedule._quote."""
        rate = self.tiers[self.tier_of(taker, day)].taker
        if taker_api:
            rate = pm.mul_rate_up(rate, pm.ONE - self.api_discount)
        fee = pm.mul_rate_up(notional, rate)
        rebate = pm.mul_rate_down(notional, self.tiers[self.tier_of(maker, day)].maker_rebate)
        return fee, rebate

    # ------------------------------------------------------------------ trading

    def apply_fills(self, fills: list[Fill], day: int) -> list[tuple[int, int]]:
        """Apply fills atomically; returns (taker fee, maker rebate) per fill or raises ModelRevert."""
        snapshot = self._snapshot()
        try:
            touches: dict[tuple[str, str], bool] = {}
            fees = []
            for i, f in enumerate(fills):
                token, maker_up, taker_up, fee = self._apply_fill(i, f, day)
                fees.append(fee)
                for acct, up in ((f.maker, maker_up), (f.taker, taker_up)):
                    touches[(acct, token)] = touches.get((acct, token), False) or up
            for (acct, token), up in touches.items():
                s = self.evaluate(acct, token)
                if up and s.equity < s.initial:
                    raise ModelRevert("PerpEngineInsufficientMargin", f"{acct} {s.equity} < {s.initial}")
                if not up and s.equity < s.maintenance:
                    raise ModelRevert("PerpEngineBelowMaintenance", f"{acct} {s.equity} < {s.maintenance}")
            return fees
        except ModelRevert:
            self._restore(snapshot)
            raise

    def _apply_fill(self, i: int, f: Fill, day: int) -> tuple[str, bool, bool, tuple[int, int]]:
        spec = self.markets[f.market]
        if spec.status == SETTLED:
            raise ModelRevert("PerpEngineMarketSettled")
        if f.size == 0 or f.price == 0 or f.size % spec.lot or f.price % spec.tick or f.maker == f.taker:
            raise ModelRevert("PerpEngineInvalidFill", str(i))
        delta = f.size if f.taker_is_buy else -f.size
        taker_flow = pm.value_up(spec.inverse, delta, f.price)
        maker_flow = pm.value_up(spec.inverse, -delta, f.price)
        st = self.state(f.market)
        oi_before = st.long_oi
        taker_up = self._apply_leg(i, f.market, f.taker, delta, taker_flow, f.taker_flags, f.price)
        maker_up = self._apply_leg(i, f.market, f.maker, -delta, maker_flow, f.maker_flags, f.price)
        self.fee_pool[spec.token] = self.fee_pool.get(spec.token, 0) + taker_flow + maker_flow
        notional = min(abs(taker_flow), abs(maker_flow))
        if taker_up or maker_up:
            if spec.status != ACTIVE or spec.asset in self.unhealthy:
                raise ModelRevert("PerpEngineRiskIncreaseBlocked", str(i))
            if notional < spec.min_notional:
                raise ModelRevert("PerpEngineBelowMinNotional", str(i))
            if spec.oi_cap and st.long_oi > spec.oi_cap and st.long_oi > oi_before:
                raise ModelRevert("PerpEngineOpenInterestCap", str(i))
        fee, rebate = self.quote(f.maker, f.taker, notional, bool(f.taker_flags & FLAG_API), day)
        volume = f.size if spec.inverse else notional
        for acct in (f.maker, f.taker):
            book = self.volumes.setdefault(acct, {})
            book[day] = book.get(day, 0) + volume
        self._book(f.taker, spec.token, -fee)
        self._book(f.maker, spec.token, rebate)
        self.fee_pool[spec.token] = self.fee_pool.get(spec.token, 0) + fee - rebate
        return spec.token, maker_up, taker_up, (fee, rebate)

    def _apply_leg(self, i: int, market: int, account: str, delta: int, flow: int, flags: int, price: int) -> bool:
        spec = self.markets[market]
        lg = LEG_NET
        if (account, market) in self.hedge:
            lg = LEG_SHORT if flags & FLAG_SHORT_LEG else LEG_LONG
        p = self.leg(account, market, lg)
        self._settle_funding(account, market, p)
        old, new = p.size, p.size + delta
        if (lg == LEG_LONG and new < 0) or (lg == LEG_SHORT and new > 0):
            raise ModelRevert("PerpEngineHedgeLegOverclosed", str(i))
        increased = abs(new) > abs(old) or (old > 0 > new) or (old < 0 < new)
        if increased:
            if flags & FLAG_REDUCE_ONLY:
                raise ModelRevert("PerpEngineReduceOnly", str(i))
            if spec.max_position and abs(new) > spec.max_position:
                raise ModelRevert("PerpEnginePositionLimit", str(i))
        realised = 0
        if old == 0 or (old > 0) == (delta > 0):
            p.open_value += flow
        elif abs(delta) <= abs(old):
            basis = pm.basis_share_up(p.open_value, abs(delta), abs(old))
            p.open_value -= basis
            realised = -flow - basis
        else:
            close_flow = pm.value_up(spec.inverse, -old, price)
            realised = -close_flow - p.open_value
            p.open_value = flow - close_flow
        st = self.state(market)
        p.size = new
        st.weight += (new - old) * st.index
        st.long_oi += max(new, 0) - max(old, 0)
        st.short_oi += max(-new, 0) - max(-old, 0)
        self._book(account, spec.token, realised)
        if old == 0 and new != 0 and len(self.open_markets(account, spec.token)) > MAX_OPEN_MARKETS:
            raise ModelRevert("PerpEngineTooManyPositions")
        return increased

    def _settle_funding(self, account: str, market: int, p: Leg) -> None:
        st = self.state(market)
        if st.index == p.snapshot:
            return
        if p.size:
            owed = pm.funding_owed_up(p.size, st.index - p.snapshot)
            self._book(account, self.markets[market].token, -owed)
            st.pool += owed
            st.weight += p.size * (st.index - p.snapshot)
        p.snapshot = st.index

    def _book(self, account: str, token: str, amount: int) -> None:
        self.unsettled[(account, token)] = self.unsettled.get((account, token), 0) + amount

    def set_hedge_mode(self, account: str, market: int, enabled: bool) -> None:
        """PerpEngine.setHedgeMode."""
        if any(self.leg(account, market, lg).size for lg in (0, 1, 2)):
            raise ModelRevert("PerpEngineNotFlat")
        if enabled:
            self.hedge.add((account, market))
        else:
            self.hedge.discard((account, market))

    # ------------------------------------------------------------------ funding, fees, settlement

    def accrue_funding(self, market: int, rate: int) -> int:
        """PerpEngine.accrueFunding; returns the per-unit increment."""
        spec = self.markets[market]
        per_unit = pm.funding_per_unit(spec.inverse, rate, self.prices[spec.asset])
        self.state(market).index += per_unit
        return per_unit

    def sweep_funding_surplus(self, market: int, insurance: str) -> int:
        """PerpEngine.sweepFundingSurplus."""
        st = self.state(market)
        claim = pm.ceil_div_signed(st.weight, pm.ONE)
        free = st.pool - claim
        if free <= 0:
            return 0
        st.pool -= free
        self._book(insurance, self.markets[market].token, free)
        return free

    def distribute_fees(self, token: str, treasury: str, insurance: str) -> tuple[int, int]:
        """PerpEngine.distributeFees; returns (treasury, insurance) amounts."""
        pool = self.fee_pool.get(token, 0)
        if pool == 0:
            return 0, 0
        to_ins = pm.mul_rate_up(pool, self.insurance_share)
        self.fee_pool[token] = 0
        self._book(insurance, token, to_ins)
        self._book(treasury, token, pool - to_ins)
        return pool - to_ins, to_ins

    def settle(self, account: str, token: str) -> int:
        """PerpEngine.settle; returns the signed amount credited to the account's Vault balance."""
        cash = self.unsettled.get((account, token), 0)
        if cash < 0:
            x = min(-cash, self.vault.get((account, token), 0))
            self._move(token, account, self.engine, x)
            self._book(account, token, x)
            return -x
        if cash > 0:
            x = min(cash, self.vault.get((self.engine, token), 0))
            self._move(token, self.engine, account, x)
            self._book(account, token, -x)
            return x
        return 0

    def _move(self, token: str, src: str, dst: str, amount: int) -> None:
        self.vault[(src, token)] = self.vault.get((src, token), 0) - amount
        self.vault[(dst, token)] = self.vault.get((dst, token), 0) + amount

    # ------------------------------------------------------------------ views

    def evaluate(self, account: str, token: str) -> AccountState:
        """Equity (rounded down) and requirements (rounded up), as PerpEngine._evaluate."""
        pnl = im = mm = 0
        for mid in self.open_markets(account, token):
            spec = self.markets[mid]
            price = self.prices[spec.asset]
            mmr = self.mmr(mid)
            st = self.state(mid)
            for lg in (0, 1, 2):
                p = self.leg(account, mid, lg)
                if not p.size:
                    continue
                pnl += pm.mark_value_floor(spec.inverse, p.size, price) - p.open_value
                pnl -= pm.funding_owed_up(p.size, st.index - p.snapshot)
                notional = pm.notional_up(spec.inverse, abs(p.size), price)
                im += pm.mul_rate_up(notional, pm.sized_rate(spec.imr, spec.imr_slope, notional))
                mm += pm.mul_rate_up(notional, mmr)
        base = self.vault.get((account, token), 0) + self.unsettled.get((account, token), 0)
        return AccountState(equity=base + pnl, pnl=pnl, initial=im, maintenance=mm)

    def exact(self, account: str, token: str) -> tuple[Fraction, Fraction, Fraction]:
        """Unrounded (equity, initial requirement, maintenance requirement)."""
        eq = Fraction(self.vault.get((account, token), 0) + self.unsettled.get((account, token), 0))
        im = mm = Fraction(0)
        for mid in self.open_markets(account, token):
            spec = self.markets[mid]
            price = self.prices[spec.asset]
            st = self.state(mid)
            for lg in (0, 1, 2):
                p = self.leg(account, mid, lg)
                if not p.size:
                    continue
                eq += pm.exact_value(spec.inverse, p.size, price) - p.open_value
                eq -= Fraction(p.size * (st.index - p.snapshot), pm.ONE)
                notional = abs(pm.exact_value(spec.inverse, p.size, price))
                im += notional * pm.exact_sized_rate(spec.imr, spec.imr_slope, notional)
                mm += notional * Fraction(self.mmr(mid), pm.ONE)
        return eq, im, mm

    def withdrawal_allowed(self, account: str, token: str, balance_after: int, gated: bool = False) -> bool:
        """PerpEngine.isWithdrawalAllowed."""
        if gated:
            return False
        s = self.evaluate(account, token)
        pending = self.unsettled.get((account, token), 0) + s.pnl
        return balance_after + min(pending, 0) >= s.initial

    def pool_identity(self, token: str) -> int:
        """What the engine's Vault account must hold: sum(unsettled) + pools - sum(open value)."""
        total = sum(v for (_, t), v in self.unsettled.items() if t == token)
        total += self.fee_pool.get(token, 0)
        for mid, spec in self.markets.items():
            if spec.token != token:
                continue
            total += self.state(mid).pool
            total -= sum(p.open_value for (_, m, _), p in self.legs.items() if m == mid)
        return total

    # ------------------------------------------------------------------ atomicity

    def _snapshot(self) -> tuple:
        import copy

        return copy.deepcopy((self.legs, self.unsettled, self.fee_pool, self.states, self.volumes))

    def _restore(self, snap: tuple) -> None:
        self.legs, self.unsettled, self.fee_pool, self.states, self.volumes = snap


def settle_funding(model: EngineModel, account: str, market: int) -> None:
    """PerpEngine.settleFunding."""
    for lg in (LEG_NET, LEG_LONG, LEG_SHORT):
        model._settle_funding(account, market, model.leg(account, market, lg))
