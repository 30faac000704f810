"""`ape run demo` (what `make demo` runs): the exchange end to end on a local anvil chain."""

from __future__ import annotations

import sys

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from offchain.demo.report import Report
from offchain.demo.session import run
from offchain.localnet import NotLocalNetworkError, require_local


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--traders", default=4, show_default=True, type=click.IntRange(1, 4), help="Number of trading accounts.")
@click.option("--seed", default=7, show_default=True, help="Random seed of the session.")
def cli(traders: int, seed: int) -> None:
    """Deploy the protocol on a local chain, run a scripted session and print a report.

    Exits non-zero if any check fails.
    """
    try:
        require_local(chain.chain_id, "demo")
    except NotLocalNetworkError as exc:
        raise click.ClickException(str(exc)) from exc
    logger.set_level("WARNING")
    report = Report(echo=click.echo)
    figures = run(project, accounts.test_accounts, report, n_traders=traders, seed=seed)
    click.echo(report.summary(figures))
    if report.failed:
        click.echo(f"FAILED checks: {', '.join(report.failed)}", err=True)
        sys.exit(1)
