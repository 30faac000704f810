"""Funding keeper: post the fair contract price from the matcher's book and trigger funding when due.

    ape run funding_keeper --network ethereum:local:foundry --account keeper \\
        --funding 0x... --market 1 --market 2 \\
        --matcher-config market.json --matcher-state state.json --interval 60 [--dry-run]

The price comes from the matcher's book: ``--matcher-config`` is the matcher's ``--config`` file and
``--matcher-state`` the state file it writes (``--state-out``); every round the keeper loads it and
posts the size-weighted best bid/ask. Alternatively ``--book`` is a JSON file of best levels:
``{"<market>": {"bid": [priceX18, sizeX18], "ask": [priceX18, sizeX18]}}``. ``--account`` needs
Roles.KEEPER (posting and triggering before the permissionless delay).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
from ape import chain
from ape.cli import ConnectedProviderCommand, account_option, network_option

from offchain.funding.keeper import FundingKeeper, book_file_source, matcher_state_source
from offchain.monitoring.keepers import metrics_port_option, start_keeper_metrics


@click.command(cls=ConnectedProviderCommand, short_help="Run the funding keeper")
@network_option()
@account_option()
@click.option("--funding", "funding_address", required=True, help="FundingModule address.")
@click.option("--market", "markets", multiple=True, type=int, required=True, help="Market id (repeatable).")
@click.option("--book", "book_path", type=click.Path(dir_okay=False, path_type=Path), help="Best-levels JSON file.")
@click.option("--matcher-config", type=click.Path(dir_okay=False, path_type=Path), help="The matcher's --config JSON.")
@click.option(
    "--matcher-state", type=click.Path(dir_okay=False, path_type=Path), help="The matcher's --state-out JSON."
)
@click.option("--interval", default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--iterations", default=0, show_default=True, help="Rounds to run; 0 runs until interrupted.")
@click.option("--dry-run", is_flag=True, help="Log what would be sent; send nothing.")
@metrics_port_option
def cli(
    account,
    funding_address,
    markets,
    book_path,
    matcher_config,
    matcher_state,
    interval,
    iterations,
    dry_run,
    metrics_port,
):
    """Post contract prices and trigger funding on --network, paying gas from --account."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if (book_path is None) == (matcher_state is None) or (matcher_state is None) != (matcher_config is None):
        raise click.UsageError("give either --matcher-config with --matcher-state, or --book")
    if matcher_state is not None:
        source = matcher_state_source(matcher_config, matcher_state)
    else:
        source = book_file_source(book_path)
    from ape import project

    module = project.FundingModule.at(funding_address)
    keeper = FundingKeeper(
        module=module,
        oracle=project.IPriceOracle.at(module.oracle()),
        registry=project.MarketRegistry.at(module.registry()),
        sender=account,
        markets=list(markets),
        price_source=source,
        dry_run=dry_run,
    )
    logging.info(
        "funding keeper for markets %s on chain %d from %s (dry_run=%s)",
        list(markets),
        chain.chain_id,
        matcher_state or book_path,
        dry_run,
    )
    n = 0
    monitor = start_keeper_metrics("funding", metrics_port, stale_after=max(300.0, 3 * interval))
    tick = keeper.tick if monitor is None else monitor.wrap(keeper.tick)
    while iterations == 0 or n < iterations:
        tick(chain.blocks.head.timestamp + 1)
        n += 1
        if iterations == 0 or n < iterations:
            time.sleep(interval)
