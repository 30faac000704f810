"""Oracle reporter keeper: sign prices as the configured sources and submit them to MedianOracle.

    ape run oracle_reporter --network ethereum:local:foundry --account keeper \\
        --oracle 0x... --config oracle-reporter.json --interval 1

The config (see offchain/oracle/config.py) lists the assets and, per source, a feed (file, HTTP JSON or
simulated) and the environment variable holding that source's signing key. ``--account`` only pays gas:
submission is permissionless, the source signatures carry the authority.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from ape import chain
from ape.cli import ConnectedProviderCommand, account_option, network_option

from offchain.monitoring.keepers import metrics_port_option, start_keeper_metrics, watch_oracle_submitter
from offchain.oracle.config import ConfigError, load_config
from offchain.oracle.submitter import Submitter


@click.command(cls=ConnectedProviderCommand, short_help="Sign and submit oracle price reports every interval")
@network_option()
@account_option()
@click.option("--oracle", "oracle_address", required=True, help="Address of the MedianOracle contract.")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Reporter config JSON (assets, sources, feeds, key env vars).",
)
@click.option("--interval", default=1.0, show_default=True, help="Seconds between submission rounds.")
@click.option("--iterations", default=0, show_default=True, help="Rounds to run; 0 runs until interrupted.")
@click.option("--verbose", is_flag=True, help="Log every signed report.")
@metrics_port_option
def cli(account, oracle_address, config_path, interval, iterations, verbose, metrics_port):
    """Run the oracle reporter/submitter against --network, paying gas from --account."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from ape import project

    oracle = project.MedianOracle.at(oracle_address)
    # The EIP-712 domain uses the node's real chain id (ape may report a configured one for URI networks).
    chain_id = int(chain.provider.web3.eth.chain_id)
    try:
        config = load_config(config_path, chain_id, oracle.address, os.environ)
    except ConfigError as err:
        raise click.ClickException(str(err)) from err
    registered = {s.lower() for asset in config.symbols for s in _sources(oracle, asset)}
    for reporter in config.reporters:
        if reporter.signer.address.lower() not in registered:
            logging.warning(
                "source %s (%s) is not registered for any configured asset", reporter.name, reporter.signer.address
            )
    submitter = Submitter(oracle, account, config.reporters, config.symbols, clock=lambda: chain.blocks.head.timestamp)
    logging.info(
        "reporting %s from %d sources to %s on chain %d every %.1fs",
        ",".join(config.symbols),
        len(config.reporters),
        oracle.address,
        chain_id,
        interval,
    )
    monitor = start_keeper_metrics("oracle_reporter", metrics_port, stale_after=max(60.0, 10 * interval))
    if monitor is not None:
        watch_oracle_submitter(monitor, submitter, oracle, config.symbols, lambda: chain.blocks.head.timestamp)
    rounds = submitter.run(interval_s=interval, iterations=iterations)
    logging.info("stopped after %d submitted rounds", rounds)


def _sources(oracle, symbol: str) -> list[str]:
    from offchain.oracle.signing import asset_id

    return [str(s) for s in oracle.sourcesOf(asset_id(symbol))]
