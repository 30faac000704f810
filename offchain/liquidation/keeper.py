"""Liquidation keeper: mirror accounts from events, flag, wait out the grace, force-close, ADL.

Plain ape (no silverback): every decision lives in :class:`LiquidationKeeper` methods that tests call
directly, and the CLI (scripts/liquidation_keeper.py) only loops over :meth:`LiquidationKeeper.tick`. A
silverback bot would hide its state inside its runner; a polling loop over block ranges gives the same
event-driven mirror and is trivially testable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ape.exceptions import ContractLogicError

from offchain.liquidation.mirror import AccountMirror, MarketInfo
from offchain.perp.fill_log import position_updates

log = logging.getLogger("perpx.liquidation.keeper")

GRACE_PERIOD = 30
#: Events the mirror needs, per contract.
ENGINE_EVENTS = ("FillsApplied", "PositionUpdated", "FundingAccrued", "FundingSettled", "LiquidationTransfer")
VAULT_EVENTS = ("Deposited", "Withdrawn", "InternalTransfer")
LIQ_EVENTS = ("AccountFlagged", "FlagCleared")
#: Gas of a forced close / flag, used for the profitability estimate (measured, see gas.py).
FORCE_CLOSE_GAS = 420_000
FLAG_GAS = 120_000


@dataclass
class KeeperConfig:
    """Operator settings."""

    dry_run: bool = False
    profitable_only: bool = False
    max_gas_price_wei: int = 0  # 0 = no cap
    native_price_x18: int = 0  # collateral value of 1e18 wei of gas token, for profitable-only


@dataclass
class Metrics:
    """Counters an operator watches (logged every tick)."""

    blocks: int = 0
    events: int = 0
    cash_reads: int = 0
    scans: int = 0
    candidates: int = 0
    flags: int = 0
    closes: int = 0
    adl_steps: int = 0
    skipped_gas: int = 0
    skipped_unprofitable: int = 0
    failures: int = 0


@dataclass
class Action:
    """One transaction the keeper sent (or would send in dry-run)."""

    kind: str
    account: str
    market: int = 0
    leg: int = 0
    sent: bool = True


@dataclass
class LiquidationKeeper:
    """Watches one engine: ``liq`` is the LiquidationModule (flag, forced close), ``adl`` the AdlModule."""

    engine: Any
    liq: Any
    adl: Any
    vault: Any
    registry: Any
    oracle: Any
    sender: Any
    config: KeeperConfig = field(default_factory=KeeperConfig)
    mirror: AccountMirror = field(default_factory=AccountMirror)
    metrics: Metrics = field(default_factory=Metrics)
    flagged: dict[tuple[str, str], int] = field(default_factory=dict)
    next_block: int = 0
    gas_price: Callable[[], int] = lambda: 0

    # ------------------------------------------------------------------ sync

    def load_markets(self) -> None:
        """Read every listed market once (asset, token, kind)."""
        for m in range(1, int(self.registry.marketCount()) + 1):
            asset, token, inverse, _imr, _slope = self.registry.marginInfo(m)
            self.mirror.markets.setdefault(m, MarketInfo(bytes(asset), str(token), bool(inverse)))

    def sync(self, to_block: int) -> int:
        """Ingest events of blocks ``next_block..to_block`` into the mirror; returns the event count."""
        if to_block < self.next_block:
            return 0
        if not self.mirror.markets:
            self.load_markets()
        events = []
        for contract, names in ((self.engine, ENGINE_EVENTS), (self.vault, VAULT_EVENTS), (self.liq, LIQ_EVENTS)):
            for name in names:
                for log_ in getattr(contract, name).range(self.next_block, to_block + 1):
                    events.append((log_.block_number, log_.log_index, name, dict(log_.event_arguments)))
        events.sort(key=lambda e: (e[0], e[1]))
        for _block, _index, name, args in _expand_fills(events):
            if name == "AccountFlagged":
                self.flagged[(str(args["account"]), str(args["token"]))] = int(args["at"])
            elif name == "FlagCleared":
                self.flagged.pop((str(args["account"]), str(args["token"])), None)
            else:
                if name == "PositionUpdated" and int(args["marketId"]) not in self.mirror.markets:
                    self.load_markets()
                self.mirror.apply(name, args)
        self.metrics.blocks += to_block + 1 - self.next_block
        self.metrics.events += len(events)
        self.next_block = to_block + 1
        self.metrics.cash_reads += self.mirror.refresh_cash(self._cash)
        return len(events)

    def _cash(self, account: str, token: str) -> int:
        return int(self.vault.balances(account, token)) + int(self.engine.unsettledX18(account, token))

    def prices(self) -> dict[int, int]:
        """Index price per market (one oracle read per asset) and current maintenance rates."""
        by_asset: dict[bytes, int] = {}
        out: dict[int, int] = {}
        for m, info in self.mirror.markets.items():
            if info.asset not in by_asset:
                by_asset[info.asset] = int(self.oracle.getPrice(info.asset)[0])
            out[m] = by_asset[info.asset]
            info.mmr = int(self.registry.maintenanceRate(m))
        return out

    # ------------------------------------------------------------------ decisions

    def liquidatable(self, prices: dict[int, int]) -> list[tuple[str, str]]:
        """Accounts the mirror says are below maintenance (float scan, then exact check)."""
        self.metrics.scans += 1
        candidates = self.mirror.scan(prices)
        self.metrics.candidates += len(candidates)
        return [(a, t) for a, t in candidates if self.mirror.exact_health(a, t, prices).liquidatable]

    def _gas_ok(self) -> bool:
        cap = self.config.max_gas_price_wei
        if cap and self.gas_price() > cap:
            self.metrics.skipped_gas += 1
            log.warning("gas price %d above cap %d: not sending", self.gas_price(), cap)
            return False
        return True

    def _profitable(self, reward_x18: int, gas: int) -> bool:
        if not self.config.profitable_only:
            return True
        cost = self.gas_price() * gas * self.config.native_price_x18 // 10**18
        if reward_x18 <= cost:
            self.metrics.skipped_unprofitable += 1
            log.info("skip: reward %d <= gas cost %d", reward_x18, cost)
            return False
        return True

    def _send(self, kind: str, fn: Any, *args: Any, account: str, market: int = 0, leg: int = 0) -> Action | None:
        if self.config.dry_run:
            log.info("dry-run: would %s %s market=%d leg=%d", kind, account, market, leg)
            return Action(kind, account, market, leg, sent=False)
        try:
            fn(*args, sender=self.sender)
        except ContractLogicError as exc:
            self.metrics.failures += 1
            log.warning("%s %s failed: %s", kind, account, exc)
            return None
        log.info("%s %s market=%d leg=%d", kind, account, market, leg)
        return Action(kind, account, market, leg)

    def step(self, now: int, prices: dict[int, int] | None = None) -> list[Action]:
        """One decision round at chain time ``now``: flag new, close after grace, clear recovered."""
        prices = self.prices() if prices is None else prices
        actions: list[Action] = []
        if not self._gas_ok():
            return actions
        unhealthy = set(self.liquidatable(prices))
        for account, token in sorted(unhealthy - set(self.flagged)):
            act = self._send("flag", self.liq.flag, account, token, account=account)
            if act:
                actions.append(act)
                self.metrics.flags += 1
                if not act.sent:
                    continue
                self.flagged[(account, token)] = now
        for (account, token), at in sorted(self.flagged.items()):
            if (account, token) not in unhealthy:
                act = self._send("clearFlag", self.liq.clearFlag, account, token, account=account)
                if act:
                    actions.append(act)
                continue
            if now < at + GRACE_PERIOD:
                continue
            actions.extend(self._close_account(account, token, prices))
        return actions

    def _close_account(self, account: str, token: str, prices: dict[int, int]) -> list[Action]:
        actions: list[Action] = []
        for (market, leg), pos in sorted(self.mirror.legs.get(account, {}).items()):
            info = self.mirror.markets[market]
            if info.token != token:
                continue
            notional = (
                abs(pos.size) * prices[market] // 10**18
                if not info.inverse
                else abs(pos.size) * 10**18 // prices[market]
            )
            reward = int(self.liq.rewardFor(notional)) if self.config.profitable_only else 0
            if not self._profitable(reward, FORCE_CLOSE_GAS):
                continue
            act = self._send(
                "forceClose", self.liq.forceClose, account, market, leg, account=account, market=market, leg=leg
            )
            if act is None:
                act = self._try_adl(account, market, leg)
            if act:
                actions.append(act)
                if act.kind == "forceClose":
                    self.metrics.closes += 1
        return actions

    def adl_candidates(self, market: int, bankrupt_long: bool) -> list[tuple[str, int]]:
        """Every opposite-side leg in ``market`` from the mirror, sorted by (address, leg)."""
        out = []
        for account, legs in self.mirror.legs.items():
            for (m, leg), p in legs.items():
                if m == market and p.size != 0 and (p.size > 0) != bankrupt_long:
                    out.append((account, leg))
        return sorted(out, key=lambda c: (int(c[0], 16), c[1]))

    def _try_adl(self, account: str, market: int, leg: int) -> Action | None:
        pos = self.mirror.legs.get(account, {}).get((market, leg))
        if pos is None:
            return None
        cands = self.adl_candidates(market, pos.size > 0)
        if not cands:
            return None
        scores = [int(self.adl.adlScore(a, market, lg)) for a, lg in cands]
        victim = max(range(len(cands)), key=lambda i: scores[i])
        if scores[victim] == 0:
            # every opposite leg's account is out of equity: AdlModule refuses; only a recapitalised
            # insurance fund (then a forced close) can take the leg
            log.warning(
                "adl %s market=%d leg=%d: no opposite account has equity left; the insurance fund must be topped up",
                account,
                market,
                leg,
            )
            return None
        act = self._send(
            "adl", self.adl.adl, account, market, leg, cands, victim, account=account, market=market, leg=leg
        )
        if act:
            self.metrics.adl_steps += 1
        return act

    def tick(self, head_block: int, now: int) -> list[Action]:
        """Sync to ``head_block`` then decide; logs the metrics line."""
        self.sync(head_block)
        actions = self.step(now)
        m = self.metrics
        log.info(
            "block=%d accounts=%d flagged=%d candidates=%d flags=%d closes=%d adl=%d cash_reads=%d failures=%d",
            head_block,
            len(self.mirror.legs),
            len(self.flagged),
            m.candidates,
            m.flags,
            m.closes,
            m.adl_steps,
            m.cash_reads,
            m.failures,
        )
        return actions


def _expand_fills(events: list[tuple[int, int, str, dict]]) -> list[tuple[int, int, str, dict]]:
    """Events with each ``FillsApplied`` replaced by the ``PositionUpdated`` arguments of its legs, in order."""
    out: list[tuple[int, int, str, dict]] = []
    for block, index, name, args in events:
        if name == "FillsApplied":
            out += [(block, index, "PositionUpdated", u.as_args()) for u in position_updates(args["fills"])]
        else:
            out.append((block, index, name, args))
    return out
