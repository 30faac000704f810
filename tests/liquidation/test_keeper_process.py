"""The liquidation keeper as a real operator process: ``ape run liquidation_keeper`` against the test
session's anvil (its own free port), watching a price drop that makes exactly three of five accounts
liquidatable. The test only moves chain time (evm_increaseTime) past the 30 s grace; the keeper flags,
waits on chain time and force-closes by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from liq_helpers import LINEAR, ONE, set_price

ROOT = Path(__file__).resolve().parents[2]


def _wait(predicate, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"keeper exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s; keeper log:\n{log.read_text()}")
        time.sleep(0.25)


def test_keeper_process_liquidates_exactly_the_three(
    book_start, l_stack, book, vault, usdc, keeper, admin, chain, tmp_path
):
    if chain.provider.name != "foundry":
        pytest.skip("the keeper process needs a node to connect to (anvil)")
    e, liq = l_stack.engine, l_stack.liq
    three = {n: book[n] for n in ("alice", "carol", "dave")}
    others = {n: book[n] for n in ("bob", "eve")}
    sizes_before = {n: e.positionOf(a, LINEAR, 0).size for n, a in others.items()}
    cash_before = {n: vault.balances(a, usdc) for n, a in others.items()}
    set_price(l_stack, admin, 1_920 * ONE)  # the drop: the three 10x longs fall below maintenance
    assert {n for n, a in book.items() if e.isLiquidatable(a, usdc)} == set(three)

    path = f"{ROOT / '.venv/bin'}:{ROOT / 'node_modules/.bin'}:{os.environ['PATH']}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PATH": path}  # unbuffered: terminate() must not lose log lines
    command = [str(Path(sys.executable).parent / "ape"), "run", "liquidation_keeper"]
    command += ["--network", chain.provider.uri, "--account", f"TEST::{keeper.index}"]
    command += ["--engine", e.address, "--liquidation", liq.address, "--adl", l_stack.adl.address]
    command += ["--vault", vault.address, "--from-block", str(book_start), "--interval", "0.3"]
    log = tmp_path / "keeper.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: all(liq.flaggedAt(a, usdc) for a in three.values()), 60, proc, log)
        flagged_at = max(liq.flaggedAt(a, usdc) for a in three.values())
        time.sleep(1.0)  # a few keeper rounds inside the grace: nothing may be closed yet
        assert all(e.positionOf(a, LINEAR, 0).size != 0 for a in three.values()), log.read_text()
        chain.provider.make_request("evm_increaseTime", [31])
        chain.mine()
        assert chain.blocks.head.timestamp >= flagged_at + 30
        _wait(lambda: all(e.positionOf(a, LINEAR, 0).size == 0 for a in three.values()), 60, proc, log)
        _wait(lambda: all(liq.flaggedAt(a, usdc) == 0 for a in three.values()), 20, proc, log)
        # A close is on chain before the keeper logs it (it logs once ape has confirmed the receipt):
        # terminating right after the chain check lost the last line now and then.
        closed = [f"forceClose {a} market={LINEAR}" for a in three.values()]
        _wait(lambda: all(line in log.read_text() for line in closed), 20, proc, log)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text()
    # on chain: the keeper process itself sent exactly the three flags and the three forced closes
    head = chain.blocks.head.number
    senders = {
        kind: sorted(
            (str(ev.account), str(chain.provider.get_receipt(ev.transaction_hash).sender))
            for ev in getattr(liq, kind).range(book_start, head + 1)
        )
        for kind in ("AccountFlagged", "ForcedClose")
    }
    expected = sorted((str(a), str(keeper)) for a in three.values())
    assert senders == {"AccountFlagged": expected, "ForcedClose": expected}, senders
    # and its log says so, one line per action (the message carries the chain's view for a diagnosis)
    why = f"on chain: {senders}\nkeeper log:\n{text}"
    for name, account in three.items():
        assert f"flag {account}" in text and f"forceClose {account} market={LINEAR}" in text, f"{name}: {why}"
    assert text.count("forceClose 0x") == 3 and text.count("flag 0x") == 3, why
    for name, account in others.items():
        assert e.positionOf(account, LINEAR, 0).size == sizes_before[name], name
        assert vault.balances(account, usdc) == cash_before[name], name
        assert liq.flaggedAt(account, usdc) == 0 and account.address not in text, name
