"""Deployment step for the perpetual engine (to be folded into offchain/deploy.py by the lead).

``deploy_perp`` takes the core deployment and an IPriceOracle and returns the registry, the fee
schedule and the engine, wired: the engine holds Roles.LEDGER (Vault transfers, fee volume) and is the
Vault's withdrawal guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain import roles
from offchain.perp.math import ONE

BPS = ONE // 10_000

#: Seed 000 section 3: six tiers by 30-day USD volume; taker 0.20% down to 0.08% (60% off), maker
#: rebate 0.02% up to 0.05%. Tuples: (min volume USD, taker rate, maker rebate rate), 18 decimals.
DEFAULT_TIERS: tuple[tuple[int, int, int], ...] = (
    (0, 20 * BPS, 2 * BPS),
    (1_000_000 * ONE, 17 * BPS, 25 * BPS // 10),
    (5_000_000 * ONE, 14 * BPS, 3 * BPS),
    (25_000_000 * ONE, 12 * BPS, 35 * BPS // 10),
    (100_000_000 * ONE, 10 * BPS, 4 * BPS),
    (500_000_000 * ONE, 8 * BPS, 5 * BPS),
)
DEFAULT_API_DISCOUNT = ONE // 10
DEFAULT_INSURANCE_SHARE = ONE // 5


@dataclass
class PerpDeployment:
    """The perpetual engine's contracts."""

    registry: Any
    fees: Any
    engine: Any

    def addresses(self) -> dict[str, str]:
        """Contract name -> address, for deployments/<network>.json."""
        return {
            "MarketRegistry": self.registry.address,
            "FeeSchedule": self.fees.address,
            "PerpEngine": self.engine.address,
        }


def deploy_perp(
    project: Any,
    deployer: Any,
    core: Any,
    oracle: Any,
    *,
    treasury: Any,
    insurance_fund: Any,
    settlers: list[Any] | None = None,
    funders: list[Any] | None = None,
    tiers: tuple[tuple[int, int, int], ...] = DEFAULT_TIERS,
    api_discount: int = DEFAULT_API_DISCOUNT,
    insurance_share: int = DEFAULT_INSURANCE_SHARE,
) -> PerpDeployment:
    """Deploy MarketRegistry, FeeSchedule and PerpEngine and wire them into the core deployment.

    ``deployer`` must hold Roles.ADMIN on ``core.acl``. ``settlers`` receive Roles.SETTLER (the
    Settlement contract in production) and ``funders`` Roles.FUNDING (the funding module).
    """
    registry = project.MarketRegistry.deploy(core.acl, oracle, sender=deployer)
    fees = project.FeeSchedule.deploy(core.acl, treasury, insurance_fund, insurance_share, sender=deployer)
    fees.setApiDiscount(api_discount, sender=deployer)
    fees.setTiers([list(t) for t in tiers], sender=deployer)
    engine = project.PerpEngine.deploy(core.acl, core.vault, registry, fees, sender=deployer)
    core.acl.grantRole(roles.LEDGER, engine, sender=deployer)
    core.vault.setWithdrawalGuard(engine, sender=deployer)
    for account in settlers or []:
        core.acl.grantRole(roles.SETTLER, account, sender=deployer)
    for account in funders or []:
        core.acl.grantRole(roles.FUNDING, account, sender=deployer)
    return PerpDeployment(registry=registry, fees=fees, engine=engine)


def risk_params(
    max_leverage: int, mmr_base: int, vol_factor: int = 0, mmr_max: int | None = None, imr_slope: int = 0
) -> list[int]:
    """IMarketRegistry.RiskParams for ``max_leverage``x: imr = 1/leverage (rounded up)."""
    imr = -(-ONE // max_leverage)
    return [imr, mmr_base, vol_factor, mmr_base if mmr_max is None else mmr_max, imr_slope]


def trading_params(tick: int, lot: int, min_notional: int = 0, oi_cap: int = 0, max_position: int = 0) -> list[int]:
    """IMarketRegistry.TradingParams."""
    return [tick, lot, min_notional, oi_cap, max_position]
