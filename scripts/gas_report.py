"""`ape run gas_report --network ethereum:local:foundry`: gas of every key operation (`make gas`)."""

from __future__ import annotations

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from offchain.gas import collect, format_table
from offchain.localnet import NotLocalNetworkError, require_local


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
def cli() -> None:
    """Deploy fresh contracts on a local chain and print the gas of key operations."""
    logger.set_level("WARNING")  # one line per transaction would bury the table
    try:
        require_local(chain.chain_id, "gas_report")
    except NotLocalNetworkError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(format_table(collect(project, accounts.test_accounts, log=click.echo)))
