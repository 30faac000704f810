"""One deployment function for every network: tests, `make demo` and `ape run deploy` share it.

Each later module (oracle, engine, settlement, ...) adds a ``deploy_*`` step here that takes the
contracts already deployed and returns its own, so a deployment is a fold over steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offchain import roles


@dataclass
class RoleHolders:
    """Addresses that receive each operational role at deployment."""

    operators: list[Any] = field(default_factory=list)
    keepers: list[Any] = field(default_factory=list)
    guardians: list[Any] = field(default_factory=list)
    compliance: list[Any] = field(default_factory=list)


@dataclass
class CoreDeployment:
    """The foundation contracts of a deployment."""

    acl: Any
    compliance: Any
    vault: Any

    def addresses(self) -> dict[str, str]:
        """Contract name -> address, for deployments/<network>.json."""
        return {
            "ProtocolAccess": self.acl.address,
            "ComplianceRegistry": self.compliance.address,
            "Vault": self.vault.address,
        }


def deploy_core(
    project: Any, deployer: Any, holders: RoleHolders, *, allowlist_enforced: bool = True
) -> CoreDeployment:
    """Deploy ProtocolAccess, ComplianceRegistry and Vault and grant the operational roles.

    ``deployer`` becomes the admin; hand ``roles.ADMIN`` to a timelock and renounce it afterwards
    in production (see the deployment issue).
    """
    acl = project.ProtocolAccess.deploy(deployer, sender=deployer)
    grants = [
        (roles.OPERATOR, holders.operators),
        (roles.KEEPER, holders.keepers),
        (roles.GUARDIAN, holders.guardians),
        (roles.COMPLIANCE, holders.compliance),
    ]
    for role, accounts in grants:
        for account in accounts:
            acl.grantRole(role, account, sender=deployer)
    compliance = project.ComplianceRegistry.deploy(acl, allowlist_enforced, sender=deployer)
    vault = project.Vault.deploy(acl, compliance, sender=deployer)
    return CoreDeployment(acl=acl, compliance=compliance, vault=vault)


def deploy_protocol(*args: Any, **kwargs: Any) -> Any:
    """The full protocol from a configuration, resumable: see ``offchain.deployment.runner.deploy_protocol``
    (``offchain.deployment.network.deploy_network`` loads the per-network YAML first)."""
    from offchain.deployment.runner import deploy_protocol as run

    return run(*args, **kwargs)
