"""Command line: run the matcher over a flow file with a journal, resuming after a crash.

    python -m offchain.matcher.cli run --config market.json --journal-dir ./journal \\
        --input flow.jsonl --fills-out fills.jsonl [--acked-fill-seq N] [--snapshot-every K]

``--config`` is JSON: ``{"chainId": 1, "verifyingContract": "0x...", "markets": [{"market_id": 1,
"tick_size_x18": ..., "lot_size_x18": ..., "max_leverage": 50}]}``. On start the matcher recovers
from the journal directory (snapshot + replay), writes every fill with ``seq > --acked-fill-seq``
to ``--fills-out`` (one JSON line each, flushed), then consumes input records after the last one
it had journaled.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from offchain.matcher.engine import Fill, MarketConfig, Matcher
from offchain.matcher.flow import feed, read_flow
from offchain.orders.order import Domain

log = logging.getLogger("perpx.matcher")


def load_config(path: str | Path) -> tuple[Domain, list[MarketConfig]]:
    """Read the domain and market grid from a JSON config file."""
    with open(path) as fh:
        raw = json.load(fh)
    domain = Domain(int(raw["chainId"]), raw["verifyingContract"])
    return domain, [MarketConfig(**m) for m in raw["markets"]]


def fill_json(fill: Fill) -> dict[str, Any]:
    """A fill as one JSON object (what the batch submitter consumes)."""
    return {
        "seq": fill.seq,
        "market": fill.market_id,
        "maker": fill.maker.to_json(),
        "taker": fill.taker.to_json(),
        "size": str(fill.size_x18),
        "price": str(fill.price_x18),
    }


def cmd_run(args: argparse.Namespace) -> int:
    domain, markets = load_config(args.config)
    fills_out = open(args.fills_out, "a")  # noqa: SIM115 - closed below
    acked = args.acked_fill_seq

    def emit(output: Any) -> None:
        if isinstance(output, Fill) and output.seq > acked:
            fills_out.write(json.dumps(fill_json(output)) + "\n")
            fills_out.flush()

    started = time.perf_counter()
    matcher = Matcher.recover(
        args.journal_dir, domain, markets, acked_fill_seq=acked, on_output=emit,
        snapshot_every=args.snapshot_every, fsync=args.fsync,
    )  # fmt: skip
    log.info(
        "recovered journal %s: applied seq %d, resuming after input %d, next fill %d (%.3f s)",
        args.journal_dir, matcher.applied_seq, matcher.source_seq, matcher.next_fill_seq,
        time.perf_counter() - started,
    )  # fmt: skip
    processed = 0
    for record in read_flow(args.input):
        if record["src"] <= matcher.source_seq:
            continue
        for output in feed(matcher, record):
            emit(output)
        processed += 1
        if args.throttle_ms:
            time.sleep(args.throttle_ms / 1000)
    fills_out.close()
    log.info("processed %d new inputs; journal at seq %d; %d fills so far", processed, matcher.applied_seq,
             matcher.next_fill_seq - 1)  # fmt: skip
    if args.state_out:
        with open(args.state_out, "w") as fh:
            json.dump(matcher.export_state(), fh, sort_keys=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offchain.matcher.cli", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="recover from the journal, then match every new input of a flow file")
    run.add_argument("--config", required=True, help="JSON file: chainId, verifyingContract, markets")
    run.add_argument("--journal-dir", required=True, help="journal + snapshot directory (created if missing)")
    run.add_argument("--input", required=True, help="flow file (JSON lines with increasing 'src')")
    run.add_argument("--fills-out", required=True, help="append fills (JSON lines) here")
    run.add_argument("--state-out", help="write the final engine state (JSON) here")
    run.add_argument("--acked-fill-seq", type=int, default=0, help="fills up to this seq were already consumed")
    run.add_argument("--snapshot-every", type=int, default=0, help="snapshot every N journal records (0: never)")
    run.add_argument("--fsync", action="store_true", help="fsync every journal record (power-loss safe)")
    run.add_argument("--throttle-ms", type=float, default=0.0, help="sleep after each input (drills, demos)")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
