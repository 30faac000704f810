"""Deployment step for the insurance fund and the liquidation module (to be folded into
offchain/deploy.py by the lead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain import roles

ONE = 10**18
BPS = ONE // 10_000

#: Keeper reward brackets (from notional, rate): 0.5% up to 100k, 0.25% up to 1m, 0.1% above.
DEFAULT_REWARD_TIERS: tuple[tuple[int, int], ...] = (
    (0, 50 * BPS),
    (100_000 * ONE, 25 * BPS),
    (1_000_000 * ONE, 10 * BPS),
)
#: Gamma by posted depth (min depth, gamma): 1% below 1m, 0.5% below 10m, 0.25% above.
DEFAULT_GAMMA_TIERS: tuple[tuple[int, int], ...] = (
    (0, 100 * BPS),
    (1_000_000 * ONE, 50 * BPS),
    (10_000_000 * ONE, 25 * BPS),
)


@dataclass
class LiquidationDeployment:
    """The liquidation module, the ADL module and the insurance fund."""

    fund: Any
    module: Any
    adl: Any

    def addresses(self) -> dict[str, str]:
        return {
            "InsuranceFund": self.fund.address,
            "LiquidationModule": self.module.address,
            "AdlModule": self.adl.address,
        }


def deploy_liquidation(
    project: Any,
    deployer: Any,
    core: Any,
    perp: Any,
    *,
    markets: list[int],
    treasury: Any,
    insurance_share: int = ONE // 5,
    reward_tiers: tuple[tuple[int, int], ...] = DEFAULT_REWARD_TIERS,
    gamma_tiers: tuple[tuple[int, int], ...] = DEFAULT_GAMMA_TIERS,
) -> LiquidationDeployment:
    """Deploy InsuranceFund, LiquidationModule and AdlModule, grant both modules Roles.LIQUIDATOR,
    route the fee schedule's insurance share to the fund, and set the schedules for ``markets``."""
    fund = project.InsuranceFund.deploy(core.acl, core.vault, perp.engine, sender=deployer)
    module = project.LiquidationModule.deploy(core.acl, perp.engine, fund, sender=deployer)
    adl = project.AdlModule.deploy(module, sender=deployer)
    core.acl.grantRole(roles.LIQUIDATOR, module, sender=deployer)
    core.acl.grantRole(roles.LIQUIDATOR, adl, sender=deployer)
    perp.fees.setFeeSplit(treasury, fund, insurance_share, sender=deployer)
    module.setRewardTiers([list(t) for t in reward_tiers], sender=deployer)
    for market_id in markets:
        module.setGammaTiers(market_id, [list(t) for t in gamma_tiers], sender=deployer)
    return LiquidationDeployment(fund=fund, module=module, adl=adl)
