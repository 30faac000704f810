"""`ape run deploy`: deploy (or resume) the full protocol on a network and hand it to the timelock.

    ape run deploy --network base:sepolia:node --account deployer
    ape run deploy --network bsc:testnet:node --account deployer --verify
    ape run deploy --network ethereum:local:foundry --account TEST::0 --config deployments/config/ethereum-local.yaml

Configuration: deployments/config/<ecosystem>-<network>.yaml (``--config`` to override). Record:
deployments/<ecosystem>-<network>.json, written after every step; rerun the same command after a
failure and it continues where it stopped. A record of a different live deployment is refused unless
``--force`` (the old file is kept next to it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from offchain.deployment.config import ConfigError
from offchain.deployment.record import RecordConflict


def _verify(deployment, echo) -> list[str]:
    """Submit every deployed contract to the explorer (ape-etherscan); returns the failures."""
    try:
        from ape_etherscan import Etherscan  # noqa: F401  (the plugin must be installed: pip install '.[deploy]')
    except ImportError as exc:
        raise click.ClickException("--verify needs ape-etherscan: pip install -e '.[deploy]'") from exc
    from ape import networks

    explorer = networks.provider.network.explorer
    if explorer is None:
        raise click.ClickException("--verify: this network has no explorer plugin configured")
    failed = []
    for name, contract in deployment.contracts.items():
        try:
            explorer.publish_contract(contract.address)
            echo(f"verified {name:<22} {contract.address}")
        except Exception as exc:  # an explorer hiccup must not hide the rest
            failed.append(name)
            echo(f"verification of {name} failed: {exc}")
    return failed


@click.command(cls=ConnectedProviderCommand, short_help="Deploy the protocol from a per-network YAML")
@network_option()
@account_option()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Configuration YAML (default deployments/config/<ecosystem>-<network>.yaml).",
)
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Deployment record JSON (default deployments/<ecosystem>-<network>.json).",
)
@click.option("--force", is_flag=True, help="Replace a record of a different live deployment (it is kept aside).")
@click.option("--verify", is_flag=True, help="Verify every contract on the network's explorer (ape-etherscan).")
def cli(ecosystem, network, account, config_file, record_file, force, verify):
    """Deploy and wire the whole protocol, record it step by step, hand admin to the timelock."""
    from ape import accounts, chain, project

    echo = click.echo
    eco_name, net_name = ecosystem.name, network.name
    from offchain.deployment.network import deploy_network

    try:
        deployment = deploy_network(
            project,
            chain.provider,
            account,
            ecosystem=eco_name,
            network=net_name,
            config_file=config_file,
            record_file=record_file,
            test_accounts=accounts.test_accounts,
            force=force,
            log=echo,
        )
    except (ConfigError, RecordConflict) as exc:
        raise click.ClickException(str(exc)) from exc
    echo(f"deployment complete: {deployment.record.path}")
    for name, contract in deployment.contracts.items():
        echo(f"  {name:<24} {contract.address}")
    if verify and _verify(deployment, echo):
        sys.exit(1)
