"""Liquidation keeper: mirror accounts from events, flag, wait out the 30 s grace, force-close, ADL.

    ape run liquidation_keeper --network ethereum:local:foundry --account keeper \\
        --engine 0x... --liquidation 0x... --adl 0x... --vault 0x... --interval 1 [--dry-run] \\
        [--profitable-only --native-price 3000] [--max-gas-gwei 50]

Flagging, forced closes and ADL are permissionless: ``--account`` pays gas and receives keeper rewards.
"""

from __future__ import annotations

import logging
import time

import click
from ape import chain
from ape.cli import ConnectedProviderCommand, account_option, network_option

from offchain.liquidation.keeper import KeeperConfig, LiquidationKeeper
from offchain.monitoring.keepers import metrics_port_option, observe_liquidation, start_keeper_metrics
from offchain.simulated import Simulated


@click.command(cls=ConnectedProviderCommand, short_help="Run the liquidation keeper")
@network_option()
@account_option()
@click.option("--engine", "engine_address", required=True, help="PerpEngine address.")
@click.option("--liquidation", "liq_address", required=True, help="LiquidationModule address.")
@click.option("--adl", "adl_address", required=True, help="AdlModule address.")
@click.option("--vault", "vault_address", required=True, help="Vault address.")
@click.option("--from-block", default=0, show_default=True, help="First block to mirror (the engine's deploy block).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between rounds.")
@click.option("--iterations", default=0, show_default=True, help="Rounds to run; 0 runs until interrupted.")
@click.option("--dry-run", is_flag=True, help="Log what would be sent; send nothing.")
@click.option("--profitable-only", is_flag=True, help="Only force-close when the reward exceeds the gas cost.")
@click.option("--native-price", default=0.0, show_default=True, help="Collateral value of one gas token (ETH).")
@click.option("--max-gas-gwei", default=0.0, show_default=True, help="Send nothing above this gas price (0: no cap).")
@click.option("--verbose", is_flag=True, help="Debug logging.")
@metrics_port_option
def cli(
    account,
    engine_address,
    liq_address,
    adl_address,
    vault_address,
    from_block,
    interval,
    iterations,
    dry_run,
    profitable_only,
    native_price,
    max_gas_gwei,
    verbose,
    metrics_port,
):
    """Watch the engine on --network and liquidate unhealthy accounts, paying gas from --account."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from ape import project

    engine = project.PerpEngine.at(engine_address)
    keeper = LiquidationKeeper(
        engine=engine,
        # refused actions (a forced close the fund cannot take) fail on eth_call, without an ape trace
        liq=Simulated(project.LiquidationModule.at(liq_address), chain.provider.web3),
        adl=Simulated(project.AdlModule.at(adl_address), chain.provider.web3),
        vault=project.Vault.at(vault_address),
        registry=project.MarketRegistry.at(engine.registry()),
        oracle=project.IPriceOracle.at(engine.oracle()),
        sender=account,
        config=KeeperConfig(
            dry_run=dry_run,
            profitable_only=profitable_only,
            max_gas_price_wei=int(max_gas_gwei * 10**9),
            native_price_x18=int(native_price * 10**18),
        ),
        next_block=from_block,
        gas_price=lambda: int(chain.provider.gas_price),
    )
    logging.info(
        "liquidation keeper on chain %d as %s from block %d (dry_run=%s)",
        chain.chain_id,
        account.address,
        from_block,
        dry_run,
    )
    monitor = start_keeper_metrics("liquidation", metrics_port, stale_after=max(60.0, 10 * interval))
    tick = (
        keeper.tick if monitor is None else monitor.wrap(keeper.tick, lambda a: observe_liquidation(monitor, keeper, a))
    )
    n = 0
    while iterations == 0 or n < iterations:
        head = chain.blocks.head
        tick(head.number, head.timestamp + 1)
        n += 1
        if iterations == 0 or n < iterations:
            time.sleep(interval)
    logging.info("stopped after %d rounds: %s", n, keeper.metrics)
