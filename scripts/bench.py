"""`ape run bench --network ethereum:local:foundry`: the protocol's benchmarks (`make bench`)."""

from __future__ import annotations

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from offchain.bench import collect, format_figures
from offchain.localnet import NotLocalNetworkError, require_local


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
def cli() -> None:
    """Run every benchmark on a local chain and print one `bench <name> value=... unit=...` line each."""
    try:
        require_local(chain.chain_id, "bench")
    except NotLocalNetworkError as exc:
        raise click.ClickException(str(exc)) from exc
    logger.set_level("WARNING")
    click.echo(format_figures(collect(project, accounts.test_accounts, log=click.echo)))
