"""The operator entry points start and document their options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "options"),
    [
        ("liquidation_keeper", ["--network", "--account", "--adl", "--dry-run", "--profitable-only", "--max-gas-gwei"]),
        ("funding_keeper", ["--network", "--account", "--funding", "--market", "--book", "--matcher-state"]),
    ],
)
def test_cli_help(script, options):
    ape = Path(sys.executable).with_name("ape")
    out = subprocess.run(
        [str(ape), "run", script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ
    )
    assert out.returncode == 0, out.stderr
    for opt in options:
        assert opt in out.stdout
