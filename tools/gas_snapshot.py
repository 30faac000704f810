"""The committed gas snapshot (audit/gas-snapshot.json) of every key operation in the `make gas` registry.

``--update`` measures every operation on a fresh local anvil chain (offchain/gas.py ``collect``) and
rewrites the snapshot; ``--check`` measures and fails when any operation costs more than the snapshot
plus the tolerance (5%), or when an operation is missing from either side. tests/audit/test_gas_snapshot.py
runs the same comparison inside the test suite. Run: ``make gas-snapshot`` or
``.venv/bin/python tools/gas_snapshot.py --help``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "audit" / "gas-snapshot.json"
TOLERANCE = 0.05
NETWORK = "ethereum:local:foundry"
ACCEPTANCE_TIMEOUT = 300
LOG = logging.getLogger("gas-snapshot")


def load(path: Path = SNAPSHOT) -> dict[str, int]:
    """Operation label -> gas from the snapshot file."""
    return {k: int(v) for k, v in json.loads(path.read_text())["operations"].items()}


def dump(measured: Iterable[tuple[str, int]], path: Path = SNAPSHOT) -> dict[str, int]:
    """Write the snapshot (labels sorted; a label measured twice keeps its largest figure)."""
    ops: dict[str, int] = {}
    for label, gas in measured:
        ops[label] = max(gas, ops.get(label, 0))
    body = {
        "comment": "gas per key operation; refresh with `make gas-snapshot` after an intended change",
        "tolerance": TOLERANCE,
        "operations": dict(sorted(ops.items())),
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return ops


def compare(
    snapshot: dict[str, int], measured: Iterable[tuple[str, int]], tolerance: float = TOLERANCE, complete: bool = True
) -> list[str]:
    """Problems: a rise above ``tolerance``, a measured label not in the snapshot, and (``complete``)
    a snapshot label that was not measured. Falls in gas are fine (refresh to lock them in)."""
    problems = []
    seen: dict[str, int] = {}
    for label, gas in measured:
        seen[label] = max(gas, seen.get(label, 0))
    for label, gas in seen.items():
        if label not in snapshot:
            problems.append(f"{label}: {gas} gas, not in the snapshot (run `make gas-snapshot`)")
        elif gas > snapshot[label] * (1 + tolerance):
            rise = 100 * (gas - snapshot[label]) / snapshot[label]
            problems.append(f"{label}: {gas} gas vs {snapshot[label]} in the snapshot (+{rise:.1f}% > {tolerance:.0%})")
    if complete:
        problems += [f"{label}: in the snapshot but not measured" for label in snapshot if label not in seen]
    return problems


def measure_all(keep_going: bool = False, only: list[str] | None = None) -> tuple[list[tuple[str, int]], list[str]]:
    """Every operation of the registry on a fresh local chain, and the domains that failed.

    Same measurements as offchain.gas.collect (core, then each domain module); with ``keep_going`` a
    domain that fails is logged and skipped so the others are still measured.
    """
    from ape import accounts, networks, project

    from offchain.domains import present_modules
    from offchain.gas import DOMAIN_MODULES, measure_core

    settings = {"request_timeout": ACCEPTANCE_TIMEOUT}
    with networks.parse_network_choice(NETWORK, provider_settings=settings) as provider:
        # A 100-fill settlement batch can take longer than the local network's 20 s receipt timeout on
        # a loaded machine; this process only talks to its own anvil, so wait longer.
        type(provider.network).transaction_acceptance_timeout = property(lambda _self: ACCEPTANCE_TIMEOUT)
        results = measure_core(project, accounts.test_accounts)
        failed = []
        for domain, module in present_modules(DOMAIN_MODULES):
            if only and domain not in only:
                continue
            LOG.info("measuring %s ...", domain)
            try:
                results.extend(module.measure(project, accounts.test_accounts))
            except Exception as exc:  # reported, and the run exits non-zero
                if not keep_going:
                    raise
                LOG.error("domain %s failed: %s", domain, str(exc)[:300])
                failed.append(domain)
        return results, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check the committed gas snapshot.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", action="store_true", help="measure everything and rewrite the snapshot")
    mode.add_argument("--check", action="store_true", help="measure everything and compare with the snapshot")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT, help="snapshot file")
    parser.add_argument(
        "--keep-going", action="store_true", help="with --update: write what was measured even if a domain fails"
    )
    parser.add_argument(
        "--domains", nargs="+", default=None, help="with --update: measure only these domains (plus core) and merge"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    measured, failed = measure_all(keep_going=args.keep_going and args.update, only=args.domains)
    if args.update:
        if args.domains:  # merge the re-measured domains into the existing snapshot
            fresh = dict(measured)
            measured = [(k, v) for k, v in load(args.snapshot).items() if k not in fresh] + measured
        ops = dump(measured, args.snapshot)
        print(f"gas snapshot: {len(ops)} operations written to {args.snapshot}")
        if failed:
            print(f"INCOMPLETE: domains not measured: {', '.join(failed)}; rerun `make gas-snapshot`")
            return 1
        return 0
    problems = compare(load(args.snapshot), measured)
    for p in problems:
        print(p)
    print(f"gas snapshot: {len(measured)} operations checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
