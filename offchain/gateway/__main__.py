"""Command line: run the gateway in front of a matcher.

    python -m offchain.gateway --config gateway.json [--host 127.0.0.1] [--port 8080] \\
        [--rpc http://127.0.0.1:8545] [--journal-dir ./journal] [--fills-out fills.jsonl]

``--config`` is the matcher's JSON (``chainId``, ``verifyingContract``, ``markets``) plus optional
``symbols`` (``{"1": "ETH-PERP"}``), ``contracts`` (``vault``, ``engine``, ``registry``, ``compliance``,
``settlement`` addresses, read over ``--rpc`` with ABIs from ``--abi-dir`` or the ape project build) and
``limits`` (any :class:`~offchain.gateway.config.GatewayConfig` field). Without ``contracts`` the gateway
runs over an in-memory chain reader that allows every account (a local demo, never production).

Fills are appended to ``--fills-out`` as JSON lines (the batch submitter's ``--fills`` input, ``--follow``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import uvicorn

from offchain.gateway.config import GatewayConfig
from offchain.gateway.reader import ChainReader, MemoryChainReader
from offchain.gateway.server import build_gateway, uvicorn_config
from offchain.matcher.cli import fill_json, load_config
from offchain.matcher.engine import Fill, Matcher

log = logging.getLogger("perpx.gateway")


def _reader(raw: dict[str, Any], rpc: str | None, abi_dir: str | None) -> ChainReader:
    contracts = raw.get("contracts")
    if not contracts:
        log.warning("no 'contracts' in the config: in-memory chain reader, every account allowed (demo only)")
        return MemoryChainReader()
    if not rpc:
        raise SystemExit("config has 'contracts': give --rpc to read them")
    from web3 import Web3

    from offchain.gateway.web3_reader import CONTRACT_TYPES, Web3ChainReader

    w3 = Web3(Web3.HTTPProvider(rpc))
    build = Path(abi_dir) if abi_dir else None
    if build is None:
        from ape import project

        return Web3ChainReader.from_ape(project, w3, contracts)
    abis = {name: json.loads((build / f"{ctype}.json").read_text()) for name, ctype in CONTRACT_TYPES.items()}
    return Web3ChainReader(w3, contracts, abis)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offchain.gateway", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config", required=True, help="JSON: chainId, verifyingContract, markets[, symbols, contracts, limits]"
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="listen port (default 8080)")
    parser.add_argument("--rpc", help="JSON-RPC URL for the chain reads (needed with 'contracts')")
    parser.add_argument("--abi-dir", help="directory of <Contract>.json ABI lists (default: the ape project)")
    parser.add_argument("--journal-dir", help="matcher journal directory: recover from it and keep journaling")
    parser.add_argument("--fills-out", help="append fills here as JSON lines (batch submitter input)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    raw = json.loads(Path(args.config).read_text())
    domain, markets = load_config(args.config)
    config = GatewayConfig(**raw.get("limits", {}))
    if args.journal_dir:
        matcher = Matcher.recover(args.journal_dir, domain, markets)
        log.info("matcher recovered from %s at journal seq %d", args.journal_dir, matcher.applied_seq)
    else:
        matcher = Matcher(domain, markets)
    sinks = []
    fills_file = open(args.fills_out, "a") if args.fills_out else None  # noqa: SIM115 - closed on exit
    if fills_file is not None:

        def write_fill(fill: Fill) -> None:
            fills_file.write(json.dumps(fill_json(fill)) + "\n")
            fills_file.flush()

        sinks.append(write_fill)
    symbols = {int(k): v for k, v in raw.get("symbols", {}).items()}
    gw = build_gateway(matcher, _reader(raw, args.rpc, args.abi_dir), config, symbols=symbols, fill_sinks=sinks)
    cfg = uvicorn_config(gw.app, config, log_level=args.log_level.lower())
    cfg.host, cfg.port = args.host, args.port
    log.info("gateway on http://%s:%d (OpenAPI at /docs, metrics at /metrics)", args.host, args.port)
    try:
        uvicorn.Server(cfg).run()
    finally:
        if fills_file is not None:
            fills_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
