"""Command line: run validators and/or the relayer against the chains of a config file.

    ape run bridge_relayer --config bridge.json --relayer-key-env RELAYER_KEY \
        --validator-key-env VALIDATOR_1_KEY --validator-key-env VALIDATOR_2_KEY

Also runnable as ``python -m offchain.bridge.cli``. Private keys are read from the environment
variables named on the command line, never from arguments.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time

import click
from eth_account import Account

from offchain.bridge.config import BridgeConfigFile
from offchain.bridge.relayer import Destination, Relayer
from offchain.bridge.store import BridgeStore, TransferState
from offchain.bridge.validator import BridgeValidator, SourceChain
from offchain.monitoring.keepers import metrics_port_option, observe_bridge_backlog, start_keeper_metrics

log = logging.getLogger("bridge")


def _key(env: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise click.BadParameter(f"environment variable {env} is empty or unset", param_hint="key env")
    return value


@click.command(name="bridge_relayer")
@click.option(
    "--config",
    "config_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="JSON config (offchain/bridge/config.py).",
)
@click.option("--relayer-key-env", default=None, help="Env var holding the relayer's private key; omit to only sign.")
@click.option("--validator-key-env", multiple=True, help="Env var holding a validator key (repeatable).")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="Poll once and exit.")
@click.option("--max-seconds", default=0.0, help="Exit after this many seconds (0: run until SIGINT/SIGTERM).")
@click.option("--demo", "demo_locks", default=0, help="Ignore the rest: start two anvils and round-trip N transfers.")
@click.option(
    "--log-level", default="INFO", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"])
)
@metrics_port_option
def cli(
    config_path: str,
    relayer_key_env: str | None,
    validator_key_env: tuple[str, ...],
    interval: float,
    once: bool,
    max_seconds: float,
    demo_locks: int,
    log_level: str,
    metrics_port: int | None = None,
) -> None:
    """Watch Locked events on every configured chain, sign them with the validator keys and deliver
    them with the relayer key on their destination chain, exactly once."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr)
    if demo_locks:
        from offchain.bridge.demo import run_demo

        for key, value in run_demo(demo_locks).items():
            click.echo(f"{key:>15}: {value}")
        return
    if not config_path:
        raise click.UsageError("--config is required (or --demo N)")
    config = BridgeConfigFile.load(config_path)
    if not relayer_key_env and not validator_key_env:
        raise click.UsageError("nothing to do: give --relayer-key-env and/or --validator-key-env")
    bridges = config.contracts()
    store = BridgeStore(config.store)
    validators = [
        BridgeValidator(
            _key(env),
            SourceChain(
                c.chain_id,
                bridges[c.chain_id],
                {d.chain_id: d.bridge for d in config.chains if d is not c},
                c.start_block,
            ),
            store,
            confirmations=config.confirmations,
        )
        for env in validator_key_env
        for c in config.chains
    ]
    relayer = None
    if relayer_key_env:
        account = Account.from_key(_key(relayer_key_env))
        relayer = Relayer(account, {cid: Destination(cid, b) for cid, b in bridges.items()}, store)
        log.info("relayer %s delivering to chains %s", account.address, sorted(bridges))
    log.info(
        "%d validator watcher(s), %d confirmation(s), journal %s", len(validators), config.confirmations, config.store
    )
    stop = {"now": False}

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping after this poll", signum)
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    deadline = time.monotonic() + max_seconds if max_seconds > 0 else None
    monitor = start_keeper_metrics("bridge_relayer", metrics_port, stale_after=max(60.0, 10 * interval))
    done = (TransferState.DONE.value, TransferState.CANCELLED.value)
    while not stop["now"]:
        if monitor is not None:
            with monitor.round():
                signed = sum(v.poll_once() for v in validators)
                sent = relayer.poll_once() if relayer else 0
            observe_bridge_backlog(monitor, store.counts(), done)
        else:
            signed = sum(v.poll_once() for v in validators)
            sent = relayer.poll_once() if relayer else 0
        if signed or sent:
            log.info("poll: %d signature(s), %d transaction(s); journal %s", signed, sent, store.counts())
        if once or (deadline is not None and time.monotonic() >= deadline):
            break
        time.sleep(interval)
    store.close()


if __name__ == "__main__":
    cli()
