"""Submitter input format and command-line entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from settle_helpers import ONE, order

from offchain.settlement.store import fill_line, parse_fill_line

ROOT = Path(__file__).resolve().parents[2]


def test_jsonl_round_trip(signer, funded):
    alice, bob, _ = funded
    f = signer.fill(order(bob, buy=False), bob, order(alice, buy=True), alice, size=ONE // 2)
    seq, back = parse_fill_line(fill_line(7, f))
    assert seq == 7 and back == f and back.leaf(3) == f.leaf(3)


def test_bad_jsonl_line_names_problem():
    with pytest.raises(ValueError, match="bad fill record"):
        parse_fill_line('{"maker": 1}')
    with pytest.raises(ValueError, match="bad fill record"):
        parse_fill_line("not json")


def test_cli_help():
    ape = Path(sys.executable).with_name("ape")
    env = {**os.environ, "PATH": f"{ape.parent}:{ROOT / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}"}
    out = subprocess.run(
        [str(ape), "run", "batch_submitter", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    for option in ("--network", "--account", "--settlement", "--fills", "--db", "--max-batch", "--max-wait"):
        assert option in out.stdout
