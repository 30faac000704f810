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
from eth_account import Account

from bridge.helpers import make_validators
from offchain.bridge.anvil import ANVIL_MNEMONIC, anvil
from offchain.bridge.config import BridgeConfigFile, ChainConfig
from offchain.bridge.deploy import BridgeParams, allow, connect_native_to_wrapped, deploy_side, send
from offchain.bridge.store import BridgeStore

CHAIN_A, CHAIN_B = 31_001, 31_002
LOCKS = 100
UNIT = 10**6
ROOT = Path(__file__).resolve().parents[2]


def _accounts(n: int) -> list:
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)]


class Proc:
    """A CLI process (validators or relayer) with its log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
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
    deployer, relayer_acct, _, guardian, _, alice, bob = _accounts(7)
    vals = make_validators(5, "e2e.validator")
    params = BridgeParams(validators=[v.address for v in vals], threshold=3, delay_seconds=600, delay_blocks=5)
    procs: list[Proc] = []
    with ExitStack() as stack:
        stack.callback(lambda: [p.kill() for p in procs])
        w3a = stack.enter_context(anvil(CHAIN_A, log_path=tmp_path / "anvil-a.log"))
        w3b = stack.enter_context(anvil(CHAIN_B, log_path=tmp_path / "anvil-b.log"))
        a = deploy_side(w3a, deployer, guardian.address, params)
        b = deploy_side(w3b, deployer, guardian.address, params)
        connect_native_to_wrapped(
            a, b, deployer, name="USD Coin", symbol="USDC", decimals=6, delay_threshold=10**12, rate_capacity=10**15
        )
        far = w3a.eth.get_block("latest")["timestamp"] + 10 * 365 * 86400
        for side in (a, b):
            allow(side, deployer, [alice.address, bob.address], far)
        send(w3a, alice, a.token.functions.mint(alice.address, 10**12))
        send(w3a, alice, a.token.functions.approve(a.bridge.address, 2**256 - 1))

        config = BridgeConfigFile(
            chains=[
                ChainConfig("A", w3a.provider.endpoint_uri, CHAIN_A, a.bridge.address),
                ChainConfig("B", w3b.provider.endpoint_uri, CHAIN_B, b.bridge.address),
            ],
            store=tmp_path / "journal.sqlite",
            confirmations=2,
            build_file=ROOT / ".build/__local__.json",
        )
        config.dump(tmp_path / "bridge.json")
        env = {**os.environ, "RELAYER_KEY": relayer_acct.key.hex()}
        for i, v in enumerate(vals):
            env[f"VALIDATOR_{i}_KEY"] = v.key.hex()
        common = ["--config", str(tmp_path / "bridge.json"), "--interval", "0.2"]
        val_log, rel_log = tmp_path / "validators.log", tmp_path / "relayer.log"
        val_args = [arg for i in range(5) for arg in ("--validator-key-env", f"VALIDATOR_{i}_KEY")]
        procs.append(Proc([*common, *val_args], env, val_log))
        relayer = Proc([*common, "--relayer-key-env", "RELAYER_KEY"], env, rel_log)
        procs.append(relayer)

        def mine() -> None:
            w3a.provider.make_request("evm_mine", [])
            w3b.provider.make_request("evm_mine", [])

        amounts = [(i + 1) * UNIT + i for i in range(LOCKS)]
        for amount in amounts:
            send(w3a, alice, a.bridge.functions.lock(a.token.address, amount, CHAIN_B, bob.address), gas=200_000)
        total = sum(amounts)

        # Kill the relayer (SIGKILL, no cleanup) once a third has landed, then restart it.
        _wait_for(lambda: len(_released(b)) >= LOCKS // 3, mine, 90, "a third of the releases", [val_log, rel_log])
        relayer.kill()
        landed_at_kill = len(_released(b))
        assert landed_at_kill < LOCKS, "relayer finished before it could be killed: test proves nothing"
        procs.append(Proc([*common, "--relayer-key-env", "RELAYER_KEY"], env, rel_log))
        _wait_for(lambda: len(_released(b)) >= LOCKS, mine, 120, "all releases on B", [val_log, rel_log])
        time.sleep(1.0)  # let a buggy relayer double-submit, if it would
        mine()

        released = _released(b)
        assert len(released) == LOCKS
        assert len({e["args"]["id"] for e in released}) == LOCKS
        assert sum(e["args"]["amount"] for e in released) == total
        assert b.token.functions.totalSupply().call() == total == b.token.functions.balanceOf(bob.address).call()
        assert a.bridge.functions.routeTotals(CHAIN_B, a.token.address).call() == [total, 0]
        assert b.bridge.functions.routeTotals(CHAIN_A, b.token.address).call() == [0, total]
        # Never submitted twice: every relayer transaction on B is one of the 100 releases.
        assert w3b.eth.get_transaction_count(relayer_acct.address) == LOCKS

        # And back: bob burns on B, alice receives native tokens on A.
        back = 1_234 * UNIT
        send(w3b, bob, b.bridge.functions.lock(b.token.address, back, CHAIN_A, alice.address), gas=200_000)
        before = a.token.functions.balanceOf(alice.address).call()
        _wait_for(lambda: len(_released(a)) == 1, mine, 60, "the release on A", [val_log, rel_log])
        assert a.token.functions.balanceOf(alice.address).call() == before + back
        assert b.token.functions.totalSupply().call() == total - back
        locked_a, released_a = a.bridge.functions.routeTotals(CHAIN_B, a.token.address).call()
        assert (locked_a, released_a) == (total, back)
        assert released_a <= locked_a
        store = BridgeStore(config.store)
        try:
            _wait_for(lambda: store.counts() == {"done": LOCKS + 1}, mine, 30, "the journal to settle", [rel_log])
        finally:
            store.close()
