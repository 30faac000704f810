"""Glue between an ape connection and :func:`deploy_protocol`: default file paths, address resolution."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from offchain.deployment.config import MAINNETS, AddressResolver, DeploymentConfig, config_path, load_config
from offchain.deployment.runner import ProtocolDeployment, deploy_protocol
from offchain.localnet import LOCAL_CHAIN_IDS

RECORD_DIR = Path("deployments")


def record_path(ecosystem: str, network: str, base: Path = RECORD_DIR) -> Path:
    """``deployments/<ecosystem>-<network>.json``."""
    return base / f"{ecosystem}-{network}.json"


def load_network_config(
    path: Path, chain_id: int, test_accounts: Any = None, env: dict[str, str] | None = None
) -> DeploymentConfig:
    """Load ``path`` for the chain ``chain_id`` (``test:``/``dev:`` addresses only on local chains)."""
    resolver = AddressResolver(test_accounts, local=chain_id in LOCAL_CHAIN_IDS, mainnet=chain_id in MAINNETS)
    return load_config(path, resolver, env)


def deploy_network(
    project: Any,
    provider: Any,
    deployer: Any,
    *,
    ecosystem: str,
    network: str,
    config_file: Path | None = None,
    record_file: Path | None = None,
    test_accounts: Any = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> ProtocolDeployment:
    """Deploy (or resume) the protocol on the connected network from its YAML configuration."""
    cfg_path = config_file or config_path(ecosystem, "local" if provider.chain_id in LOCAL_CHAIN_IDS else network)
    config = load_network_config(cfg_path, provider.chain_id, test_accounts)
    log(f"configuration {cfg_path} (digest {config.digest[:12]}), deployer {deployer.address}")
    return deploy_protocol(
        project,
        deployer,
        config,
        record_file or record_path(ecosystem, network),
        provider=provider,
        ecosystem=ecosystem,
        network=network,
        force=force,
        log=log,
    )
