"""Gas snapshot gate: no key operation may cost more than audit/gas-snapshot.json + 5%.

The default run measures a representative subset of the `make gas` registry (Vault operations and the
oracle update paths: ``measure_core`` + ``offchain.oracle.gas``), which takes seconds. The whole
registry (settlement batches up to 100 fills, liquidation, bridge, ...) is behind
``GAS_SNAPSHOT_FULL=1`` (or the nightly profile); ``make gas-snapshot`` rewrites the snapshot and
``python tools/gas_snapshot.py --check`` runs the full comparison outside pytest.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

import pytest

from offchain.gas import collect, measure_core

_SPEC = importlib.util.spec_from_file_location(
    "gas_snapshot", Path(__file__).resolve().parents[2] / "tools" / "gas_snapshot.py"
)
assert _SPEC is not None and _SPEC.loader is not None
gas_snapshot = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(gas_snapshot)
compare, dump, load = gas_snapshot.compare, gas_snapshot.dump, gas_snapshot.load

FULL = os.environ.get("GAS_SNAPSHOT_FULL") == "1" or os.environ.get("HYPOTHESIS_PROFILE") == "nightly"
SUBSET_DOMAINS = ("offchain.oracle.gas",)


def test_compare_flags_rises_and_unknown_labels(tmp_path):
    path = tmp_path / "snap.json"
    dump([("a", 100_000), ("b", 50_000)], path)
    snap = load(path)
    assert compare(snap, [("a", 105_000), ("b", 40_000)]) == []  # exactly +5% and a fall pass
    problems = compare(snap, [("a", 105_001), ("b", 50_000), ("c", 1)])
    assert len(problems) == 2 and problems[0].startswith("a: 105001 gas") and problems[1].startswith("c:")
    assert compare(snap, [("a", 100_000)]) == ["b: in the snapshot but not measured"]
    assert compare(snap, [("a", 100_000)], complete=False) == []


def test_representative_gas_within_snapshot(project, accounts):
    measured = measure_core(project, accounts)
    for name in SUBSET_DOMAINS:
        measured += importlib.import_module(name).measure(project, accounts)
    problems = compare(load(), measured, complete=False)
    assert not problems, "gas rose above the snapshot (+5%):\n" + "\n".join(problems)


@pytest.mark.skipif(not FULL, reason="full gas registry: GAS_SNAPSHOT_FULL=1 or HYPOTHESIS_PROFILE=nightly")
def test_full_registry_gas_within_snapshot(project, accounts):
    problems = compare(load(), collect(project, accounts, log=lambda _: None))
    assert not problems, "gas snapshot mismatch:\n" + "\n".join(problems)
