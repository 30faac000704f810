"""Deployment step for Settlement (to be folded into offchain/deploy.py by the lead).

``deploy_settlement`` takes the core and perpetual deployments and returns the Settlement contract,
granted Roles.SETTLER so that it may call ``PerpEngine.applyFills``. Batches are submitted by
holders of Roles.OPERATOR (granted by ``deploy_core``).
"""

from __future__ import annotations

from typing import Any

from offchain import roles
from offchain.orders.order import Domain


def deploy_settlement(project: Any, deployer: Any, core: Any, perp: Any) -> Any:
    """Deploy Settlement wired to ``perp`` (engine, registry) and ``core.compliance``.

    ``deployer`` must hold Roles.ADMIN on ``core.acl``.
    """
    settlement = project.Settlement.deploy(core.acl, perp.engine, perp.registry, core.compliance, sender=deployer)
    core.acl.grantRole(roles.SETTLER, settlement, sender=deployer)
    return settlement


def domain_of(settlement: Any, chain_id: int) -> Domain:
    """The EIP-712 domain orders for ``settlement`` must be signed under."""
    return Domain(chain_id, str(settlement.address))
