"""End to end on two real anvil chains: 100 locks on A, validators and relayer (killed and restarted
once mid-run) deliver exactly 100 releases on B, total released == total locked; then back B -> A.

Runs its own anvil processes (not ape's provider), deploys from ape's build output with web3.py,
and runs validators and relayer as separate OS processes sharing the SQLite journal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from offchain.bridge.anvil import anvil
from offchain.bridge.demo import CHAIN_A, CHAIN_B, UNIT, setup_two_chains
from offchain.bridge.deploy import send
from offchain.bridge.store import BridgeStore

LOCKS = 100
ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """A CLI process (validators or relayer) with its log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.handle = open(log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "offchain.bridge.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.handle.close()


def _released(side) -> list:
    return side.bridge.events.Released.get_logs(from_block=0)


def _wait_for(predicate, mine, timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n" + p.read_text()[-3000:] for p in logs if p.exists())
            pytest.fail(f"timed out waiting for {what}\n{tails}")
        mine()
        time.sleep(0.2)


def test_two_chains_lock_release_and_back(tmp_path):
    procs: list[Proc] = []
    with ExitStack() as stack:
        stack.callback(lambda: [p.kill() for p in procs])
        w3a = stack.enter_context(anvil(CHAIN_A, log_path=tmp_path / "anvil-a.log"))
        w3b = stack.enter_context(anvil(CHAIN_B, log_path=tmp_path / "anvil-b.log"))
        s = setup_two_chains(w3a, w3b, tmp_path, build_file=ROOT / ".build/__local__.json")
        a, b = s.a, s.b
        env = {**os.environ, "RELAYER_KEY": s.relayer.key.hex()}
        for i, key in enumerate(s.validator_keys):
            env[f"VALIDATOR_{i}_KEY"] = key.hex()
        common = ["--config", str(tmp_path / "bridge.json"), "--interval", "0.2"]
        val_log, rel_log = tmp_path / "validators.log", tmp_path / "relayer.log"
        val_args = [arg for i in range(len(s.validator_keys)) for arg in ("--validator-key-env", f"VALIDATOR_{i}_KEY")]
        procs.append(Proc([*common, *val_args], env, val_log))
        relayer = Proc([*common, "--relayer-key-env", "RELAYER_KEY"], env, rel_log)
        procs.append(relayer)

        def mine() -> None:
            w3a.provider.make_request("evm_mine", [])
            w3b.provider.make_request("evm_mine", [])

        amounts = [(i + 1) * UNIT + i for i in range(LOCKS)]
        for amount in amounts:
            send(w3a, s.alice, a.bridge.functions.lock(a.token.address, amount, CHAIN_B, s.bob.address), gas=200_000)
        total = sum(amounts)

        # Kill the relayer (SIGKILL, no cleanup) once a third has landed, then restart it.
        _wait_for(lambda: len(_released(b)) >= LOCKS // 3, mine, 90, "a third of the releases", [val_log, rel_log])
        relayer.kill()
        assert len(_released(b)) < LOCKS, "relayer finished before it could be killed: test proves nothing"
        procs.append(Proc([*common, "--relayer-key-env", "RELAYER_KEY"], env, rel_log))
        _wait_for(lambda: len(_released(b)) >= LOCKS, mine, 120, "all releases on B", [val_log, rel_log])
        time.sleep(1.0)  # let a buggy relayer double-submit, if it would
        mine()

        released = _released(b)
        assert len(released) == LOCKS
        assert len({e["args"]["id"] for e in released}) == LOCKS
        assert sum(e["args"]["amount"] for e in released) == total
        assert b.token.functions.totalSupply().call() == total == b.token.functions.balanceOf(s.bob.address).call()
        assert a.bridge.functions.routeTotals(CHAIN_B, a.token.address).call() == [total, 0]
        assert b.bridge.functions.routeTotals(CHAIN_A, b.token.address).call() == [0, total]
        # Never submitted twice: every relayer transaction on B is one of the 100 releases.
        assert w3b.eth.get_transaction_count(s.relayer.address) == LOCKS

        # And back: bob burns on B, alice receives native tokens on A.
        back = 1_234 * UNIT
        send(w3b, s.bob, b.bridge.functions.lock(b.token.address, back, CHAIN_A, s.alice.address), gas=200_000)
        before = a.token.functions.balanceOf(s.alice.address).call()
        _wait_for(lambda: len(_released(a)) == 1, mine, 60, "the release on A", [val_log, rel_log])
        assert a.token.functions.balanceOf(s.alice.address).call() == before + back
        assert b.token.functions.totalSupply().call() == total - back
        locked_a, released_a = a.bridge.functions.routeTotals(CHAIN_B, a.token.address).call()
        assert (locked_a, released_a) == (total, back)
        assert released_a <= locked_a
        store = BridgeStore(s.config.store)
        try:
            _wait_for(lambda: store.counts() == {"done": LOCKS + 1}, mine, 30, "the journal to settle", [rel_log])
        finally:
            store.close()


def test_in_process_demo_round_trip():
    from offchain.bridge.demo import run_demo

    summary = run_demo(3, timeout=60)
    assert summary["releases_on_B"] == 3
    assert summary["locked_on_A"] == summary["minted_on_B"] == 6 * UNIT
    assert summary["released_on_A"] == summary["burned_on_B"] == 3 * UNIT // 2
    assert summary["journal"] == {"done": 4}
