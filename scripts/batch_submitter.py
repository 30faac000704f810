"""Batch submitter: settle matched fills on chain in Merkle-rooted batches, idempotently across restarts.

    ape run batch_submitter --network ethereum:local:foundry --account operator \\
        --settlement 0x... --fills fills.jsonl --db submitter.sqlite --max-batch 100 --max-wait 2

``--fills`` is a JSON-lines file (or ``-`` for stdin), one fill per line as written by
``offchain.settlement.store.fill_line``: ``{"seq", "maker", "taker", "size", "price"}`` with both signed
orders. Progress lives in the SQLite ``--db``: restart with the same arguments after a crash and every
fill is settled exactly once (already-stored sequence numbers are skipped; open batches are reconciled
with the chain first). ``--account`` must hold the OPERATOR role. Without ape:
``python -m offchain.settlement.run --help``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from ape import chain
from ape.cli import ConnectedProviderCommand, account_option, network_option

from offchain.monitoring.keepers import MeteredChainClient, metrics_port_option, start_submitter_metrics
from offchain.settlement.chain import ApeChainClient
from offchain.settlement.run import report, run_stream
from offchain.settlement.store import SubmitterStore
from offchain.settlement.submitter import BatchSubmitter, SubmitterError, crash_hook_from_env


@click.command(cls=ConnectedProviderCommand, short_help="Settle matched fills in batches (idempotent)")
@network_option()
@account_option()
@click.option("--settlement", "settlement_address", required=True, help="Address of the Settlement contract.")
@click.option("--fills", "fills_path", required=True, help="JSON-lines fills file, or - for stdin.")
@click.option(
    "--db", "db_path", default="submitter.sqlite", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite progress database (keep it across restarts).",
)  # fmt: skip
@click.option("--max-batch", default=100, show_default=True, help="Fills per batch at most.")
@click.option("--max-wait", default=2.0, show_default=True, help="Seconds the oldest pending fill may wait.")
@click.option("--follow", is_flag=True, help="Keep reading fills appended to --fills until interrupted.")
@click.option("--poll", default=0.5, show_default=True, help="Seconds between reads in --follow mode.")
@metrics_port_option
def cli(account, settlement_address, fills_path, db_path, max_batch, max_wait, follow, poll, metrics_port):
    """Read fills, cut batches, settle them with --account on --network and record progress in --db."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ape import project

    settlement = project.Settlement.at(settlement_address)
    engine = project.PerpEngine.at(settlement.engine())
    store = SubmitterStore(db_path)
    client = ApeChainClient(settlement, engine, account, chain.provider)
    metered = start_submitter_metrics(metrics_port)
    if metered is not None:
        gas_of = lambda h: int(chain.provider.web3.eth.get_transaction_receipt(h)["gasUsed"])  # noqa: E731
        client = MeteredChainClient(client, metered[0], gas_of)
    crash = crash_hook_from_env(os.environ)  # PERPX_CRASH_AT: crash tests only
    submitter = BatchSubmitter(store, client, max_batch=max_batch, max_wait_s=max_wait, crash_hook=crash)
    if metered is not None:
        step, monitor = submitter.step, metered[1]
        submitter.step = monitor.wrap(step, lambda _: metered[0].pending_fills.set(store.pending_count()))
    logging.info(
        "settling into %s on chain %d as %s; db %s (acked seq %d, chain batch %d)",
        settlement.address, chain.chain_id, account.address, db_path, store.acked_seq(), settlement.lastBatchId(),
    )  # fmt: skip
    stream = sys.stdin if fills_path == "-" else open(fills_path)  # noqa: SIM115 - closed below
    try:
        settled = run_stream(submitter, stream, follow=follow, poll=poll, max_batch=max_batch)
    except (SubmitterError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    finally:
        if stream is not sys.stdin:
            stream.close()
    report(store, settled, settlement.lastBatchId())
