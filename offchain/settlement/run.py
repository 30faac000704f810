"""Batch submitter process without ape: ``python -m offchain.settlement.run --help``.

    PERPX_OPERATOR_KEY=0x... python -m offchain.settlement.run --rpc http://127.0.0.1:8545 \\
        --settlement 0x... --fills fills.jsonl --db submitter.sqlite

Same behaviour and files as ``ape run batch_submitter`` (JSON-lines fills as written by
``offchain.settlement.store.fill_line``, SQLite progress), but it talks to any JSON-RPC node through
web3.py and signs with the key in ``$PERPX_OPERATOR_KEY`` (never on the command line). ABIs come from
ape's build manifest (``--manifest``, default ``.build/__local__.json``).

``PERPX_CRASH_AT=<point>[:<n>]`` makes the process SIGKILL itself the n-th time it reaches ``point``
(one of :data:`offchain.settlement.submitter.CRASH_POINTS`): crash tests restart it and check the chain.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from offchain.settlement.store import SubmitterStore, parse_fill_line
from offchain.settlement.submitter import BatchSubmitter, SubmitterError, crash_hook_from_env

LOG = logging.getLogger("perpx.settlement")
Record = tuple[int, object] | None


def records(stream: IO[str], follow: bool, poll: float, after: int) -> Iterator[Record]:
    """``(seq, fill)`` pairs with ``seq > after``; with ``follow``, ``None`` idle ticks while waiting for more."""
    while True:
        line = stream.readline()
        if not line:
            if not follow:
                return
            yield None  # idle tick: let the submitter cut by age
            time.sleep(poll)
            continue
        if line.strip():
            seq, fill = parse_fill_line(line)
            if seq > after:
                yield seq, fill


def run_stream(submitter: BatchSubmitter, stream: IO[str], *, follow: bool, poll: float, max_batch: int) -> int:
    """Reconcile open batches, then ingest and settle the stream; returns the fills settled in this run."""
    settled = submitter.recover()
    buffer: list = []
    for item in records(stream, follow, poll, submitter.store.acked_seq()):
        if item is not None:
            buffer.append(item)
        if buffer and (item is None or len(buffer) >= max_batch):
            submitter.ingest(buffer)
            buffer = []
        settled += submitter.step()
    if buffer:
        submitter.ingest(buffer)
    return settled + submitter.drain()


def report(store: SubmitterStore, settled: int, last_batch: int) -> None:
    """Operator summary: dropped fills with their reasons, totals."""
    for seq, reason in store.dropped():
        LOG.warning("dropped fill seq %d: %s", seq, reason)
    LOG.info("done: %d fills settled this run; totals %s; chain batch %d", settled, store.counts(), last_batch)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m offchain.settlement.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--rpc", required=True, help="JSON-RPC URL of the node.")
    p.add_argument("--settlement", required=True, help="Address of the Settlement contract.")
    p.add_argument("--fills", required=True, help="JSON-lines fills file, or - for stdin.")
    p.add_argument("--db", default="submitter.sqlite", type=Path, help="SQLite progress database (keep it).")
    p.add_argument("--manifest", default=".build/__local__.json", type=Path, help="ape build manifest (ABIs).")
    p.add_argument("--max-batch", default=100, type=int, help="Fills per batch at most (default 100).")
    p.add_argument("--max-wait", default=2.0, type=float, help="Seconds the oldest pending fill may wait.")
    p.add_argument("--follow", action="store_true", help="Keep reading fills appended to --fills.")
    p.add_argument("--poll", default=0.5, type=float, help="Seconds between reads in --follow mode.")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    key = os.environ.get("PERPX_OPERATOR_KEY")
    if not key:
        LOG.error("set PERPX_OPERATOR_KEY to the operator's private key")
        return 2
    from web3 import Web3

    from offchain.settlement.web3_client import Web3ChainClient, load_abis

    w3 = Web3(Web3.HTTPProvider(args.rpc, request_kwargs={"timeout": 60}))
    settlement_abi, engine_abi = load_abis(args.manifest, "Settlement", "PerpEngine")
    client = Web3ChainClient(w3, args.settlement, settlement_abi, engine_abi, key)
    store = SubmitterStore(args.db)
    submitter = BatchSubmitter(
        store, client, max_batch=args.max_batch, max_wait_s=args.max_wait, crash_hook=crash_hook_from_env(os.environ)
    )
    LOG.info(
        "settling into %s on chain %d as %s; db %s (acked seq %d, chain batch %d)",
        args.settlement, w3.eth.chain_id, client.account.address, args.db, store.acked_seq(), client.last_batch_id(),
    )  # fmt: skip
    stream = sys.stdin if args.fills == "-" else open(args.fills)  # noqa: SIM115 - closed below
    try:
        settled = run_stream(submitter, stream, follow=args.follow, poll=args.poll, max_batch=args.max_batch)
    except (SubmitterError, ValueError) as err:
        LOG.error("%s", err)
        return 1
    finally:
        if stream is not sys.stdin:
            stream.close()
    report(store, settled, client.last_batch_id())
    return 0


if __name__ == "__main__":
    sys.exit(main())
