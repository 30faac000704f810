"""`ape run demo` (what `make demo` runs): the whole exchange on a local anvil chain.

Deploys with the same function as `ape run deploy` (deployments/config/ethereum-local.yaml), then runs a
scripted session and prints a summary with conservation checks. Exits non-zero if any check fails.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from offchain.demo.chart import matplotlib_available, write_chart
from offchain.demo.report import Report
from offchain.demo.session import run
from offchain.localnet import NotLocalNetworkError, require_local


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--traders", default=2, show_default=True, type=click.IntRange(0, 50),
              help="Extra traders trading at random (besides the scripted ones).")  # fmt: skip
@click.option("--minutes", default=0.0, show_default=True, type=click.FloatRange(0, 600),
              help="Keep trading and funding for about this long before the crash (0: one round).")  # fmt: skip
@click.option("--seed", default=7, show_default=True, help="Random seed of the session.")
@click.option("--no-bridge", is_flag=True, help="Skip the two-chain bridge act (starts two more anvils).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a PNG of index/contract price, funding and insurance fund (needs matplotlib).")  # fmt: skip
@click.option("--serve-gateway", default=0.0, show_default=True, type=click.FloatRange(0, 86_400), metavar="SECONDS",
              help="Keep the REST/WebSocket gateway up this long after the session (see README).")  # fmt: skip
@click.option("--gateway-port", default=8080, show_default=True, type=click.IntRange(0, 65_535),
              help="Loopback port of --serve-gateway (0: any free port).")  # fmt: skip
def cli(
    traders: int,
    minutes: float,
    seed: int,
    no_bridge: bool,
    chart: Path | None,
    serve_gateway: float,
    gateway_port: int,
) -> None:
    """Deploy the protocol on a local chain, run a scripted session and print a report."""
    try:
        require_local(chain.chain_id, "demo")
    except NotLocalNetworkError as exc:
        raise click.ClickException(str(exc)) from exc
    if chart and not matplotlib_available():
        raise click.ClickException("--chart needs matplotlib: pip install -e '.[demo]'")
    logger.set_level("ERROR")
    logging.getLogger("perpx").setLevel(logging.ERROR)  # keepers log every refused send; the report says it
    report = Report(echo=click.echo)
    figures, demo = run(
        project, chain, accounts.test_accounts, report, n_traders=traders, minutes=minutes, seed=seed,
        bridge_locks=0 if no_bridge else 3, serve_gateway=serve_gateway,
        gateway_port=gateway_port,
    )  # fmt: skip
    click.echo(report.summary(figures))
    if chart:
        click.echo(f"chart written to {write_chart(demo.series, chart)}")
    if report.failed:
        click.echo(f"FAILED checks: {', '.join(report.failed)}", err=True)
        sys.exit(1)
