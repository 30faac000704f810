"""Deployment step for MedianOracle: deploy, list assets, register sources.

A fold step like ``offchain.deploy.deploy_core``: it takes the deployment's role registry and returns the
oracle contract. ``deploy_oracle`` is what tests, the gas script and a deployment script share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from offchain.oracle.signing import asset_id
from offchain.units import ONE_X18


@dataclass(frozen=True)
class AssetSpec:
    """Governed oracle parameters of one asset (defaults: 3-of-n, 60 s, 5% isolation, 10% jump cap, hourly vol)."""

    symbol: str
    quorum: int = 3
    max_age: int = 60
    max_deviation_x18: int = 5 * ONE_X18 // 100
    jump_cap_x18: int = 10 * ONE_X18 // 100
    sample_interval: int = 3600

    @property
    def asset(self) -> bytes:
        """The asset's bytes32 id."""
        return asset_id(self.symbol)


def configure_asset(oracle: Any, admin: Any, spec: AssetSpec, sources: Sequence[str]) -> None:
    """List ``spec`` (or update its parameters) and register any of ``sources`` not yet registered."""
    oracle.configureAsset(
        spec.asset,
        spec.quorum,
        spec.max_age,
        spec.max_deviation_x18,
        spec.jump_cap_x18,
        spec.sample_interval,
        sender=admin,
    )
    registered = {str(s).lower() for s in oracle.sourcesOf(spec.asset)}
    for source in sources:
        if str(source).lower() not in registered:
            oracle.addSource(spec.asset, source, sender=admin)


def deploy_oracle(project: Any, deployer: Any, acl: Any, assets: Sequence[AssetSpec], sources: Sequence[str]) -> Any:
    """Deploy MedianOracle against ``acl`` and list every asset with the same source set.

    ``deployer`` must hold ``roles.ADMIN`` in ``acl`` (it configures the assets).
    """
    oracle = project.MedianOracle.deploy(acl, sender=deployer)
    for spec in assets:
        configure_asset(oracle, deployer, spec, sources)
    return oracle
