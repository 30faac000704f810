"""Two-chain round trip on local anvil nodes: deploy the bridge on both chains, lock on A, watch the
validators and relayer release on B, and back. Used by ``ape run bridge_relayer --demo`` and the
end-to-end test (which reuses :func:`setup_two_chains`)."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from offchain.bridge.anvil import ANVIL_MNEMONIC, anvil
from offchain.bridge.artifacts import DEFAULT_BUILD
from offchain.bridge.config import BridgeConfigFile, ChainConfig
from offchain.bridge.deploy import BridgeParams, BridgeSide, allow, connect_native_to_wrapped, deploy_side, send
from offchain.bridge.messages import sorted_addresses
from offchain.bridge.relayer import Destination, Relayer
from offchain.bridge.store import BridgeStore
from offchain.bridge.validator import BridgeValidator, SourceChain

log = logging.getLogger("bridge.demo")

CHAIN_A, CHAIN_B = 31_001, 31_002
UNIT = 10**6


@dataclass
class TwoChainSetup:
    """Everything a round trip needs."""

    a: BridgeSide
    b: BridgeSide
    deployer: LocalAccount
    relayer: LocalAccount
    alice: LocalAccount
    bob: LocalAccount
    validator_keys: list[bytes]
    config: BridgeConfigFile


def anvil_accounts(n: int) -> list[LocalAccount]:
    """The first ``n`` accounts of anvil's default mnemonic."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)]


def setup_two_chains(
    w3a: Web3, w3b: Web3, workdir: Path, *, validators: int = 5, threshold: int = 3, build_file: Path = DEFAULT_BUILD
) -> TwoChainSetup:
    """Deploy both sides, route a native USDC on A to a bridged USDC on B, allowlist alice and bob,
    fund alice, and write ``workdir/bridge.json`` (journal ``workdir/journal.sqlite``)."""
    deployer, relayer, _, guardian, _, alice, bob = anvil_accounts(7)
    keys = [keccak(text=f"demo.validator.{i}") for i in range(validators)]
    params = BridgeParams(
        validators=sorted_addresses([Account.from_key(k).address for k in keys]),
        threshold=threshold,
        delay_seconds=600,
        delay_blocks=5,
    )
    a = deploy_side(w3a, deployer, guardian.address, params, build_file=build_file)
    b = deploy_side(w3b, deployer, guardian.address, params, build_file=build_file)
    connect_native_to_wrapped(
        a,
        b,
        deployer,
        name="USD Coin",
        symbol="USDC",
        decimals=6,
        delay_threshold=10**12,
        rate_capacity=10**15,
        build_file=build_file,
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
        store=workdir / "journal.sqlite",
        confirmations=2,
        build_file=Path(build_file).resolve(),
    )
    config.dump(workdir / "bridge.json")
    return TwoChainSetup(a, b, deployer, relayer, alice, bob, keys, config)


def _mine(*w3s: Web3) -> None:
    for w3 in w3s:
        w3.provider.make_request("evm_mine", [])


def run_demo(locks: int = 10, *, timeout: float = 120.0) -> dict[str, Any]:
    """Start two anvils, run ``locks`` transfers A -> B and one back, in-process; returns a summary."""
    with tempfile.TemporaryDirectory() as tmp, anvil(CHAIN_A) as w3a, anvil(CHAIN_B) as w3b:
        s = setup_two_chains(w3a, w3b, Path(tmp))
        log.info(
            "bridge A %s (chain %d), bridge B %s (chain %d)", s.a.bridge.address, CHAIN_A, s.b.bridge.address, CHAIN_B
        )
        bridges = {CHAIN_A: s.a.bridge, CHAIN_B: s.b.bridge}
        store = BridgeStore(s.config.store)
        validators = [
            BridgeValidator(
                k,
                SourceChain(cid, bridges[cid], {o: bridges[o].address for o in bridges if o != cid}),
                store,
                confirmations=2,
            )
            for k in s.validator_keys
            for cid in bridges
        ]
        relayer = Relayer(s.relayer, {cid: Destination(cid, c) for cid, c in bridges.items()}, store)
        amounts = [(i + 1) * UNIT for i in range(locks)]
        for amount in amounts:
            send(
                w3a, s.alice, s.a.bridge.functions.lock(s.a.token.address, amount, CHAIN_B, s.bob.address), gas=200_000
            )
        log.info("locked %d transfers on A, total %d", locks, sum(amounts))

        def released(side: BridgeSide) -> int:
            return len(side.bridge.events.Released.get_logs(from_block=0))

        def pump(until: Any) -> None:
            deadline = time.monotonic() + timeout
            while not until():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"demo did not finish within {timeout}s; journal {store.counts()}")
                for v in validators:
                    v.poll_once()
                relayer.poll_once()
                _mine(w3a, w3b)

        pump(lambda: released(s.b) == locks)
        back = amounts[-1] // 2
        send(w3b, s.bob, s.b.bridge.functions.lock(s.b.token.address, back, CHAIN_A, s.alice.address), gas=200_000)
        pump(lambda: released(s.a) == 1)
        summary = {
            "locked_on_A": s.a.bridge.functions.routeTotals(CHAIN_B, s.a.token.address).call()[0],
            "minted_on_B": s.b.bridge.functions.routeTotals(CHAIN_A, s.b.token.address).call()[1],
            "releases_on_B": released(s.b),
            "burned_on_B": back,
            "released_on_A": s.a.bridge.functions.routeTotals(CHAIN_B, s.a.token.address).call()[1],
            "journal": store.counts(),
        }
        store.close()
        return summary
