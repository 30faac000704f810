"""Deployment step for the funding module (to be folded into offchain/deploy.py by the lead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain import roles
from offchain.funding.reference import ONE

BPS = ONE // 10_000


@dataclass(frozen=True)
class FundingConfig:
    """FundingModule.Config, 18 decimals. Defaults: alpha 0.7, beta 0.3, |F| <= 0.75% per 8 h,
    |dF| <= 0.25% per interval, posts within 5% of the index and 1% of the previous post."""

    alpha: int = 7 * ONE // 10
    beta: int = 3 * ONE // 10
    max_rate: int = 75 * BPS // 10
    max_change: int = 25 * BPS // 10
    max_deviation: int = 500 * BPS
    max_step: int = 100 * BPS

    def as_tuple(self) -> tuple[int, int, int, int, int, int]:
        return (self.alpha, self.beta, self.max_rate, self.max_change, self.max_deviation, self.max_step)


def deploy_funding(
    project: Any,
    deployer: Any,
    acl: Any,
    engine: Any,
    registry: Any,
    *,
    markets: dict[int, int] | None = None,
    config: FundingConfig = FundingConfig(),
) -> Any:
    """Deploy FundingModule, grant it Roles.FUNDING, and configure + activate ``markets``
    (market id -> initial contract price). ``deployer`` must hold Roles.ADMIN."""
    module = project.FundingModule.deploy(acl, engine, registry, sender=deployer)
    acl.grantRole(roles.FUNDING, module, sender=deployer)
    for market_id, price in (markets or {}).items():
        module.setConfig(market_id, config.as_tuple(), sender=deployer)
        module.activate(market_id, price, sender=deployer)
    return module
