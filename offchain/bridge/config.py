"""Relayer/validator configuration: a JSON file naming the chains, their bridges and the journal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from offchain.bridge.artifacts import DEFAULT_BUILD, load_artifact


@dataclass(frozen=True)
class ChainConfig:
    """One chain: a name for logs, its RPC URL, chain id and bridge address."""

    name: str
    rpc: str
    chain_id: int
    bridge: str
    start_block: int = 0


@dataclass(frozen=True)
class BridgeConfigFile:
    """The whole configuration."""

    chains: list[ChainConfig]
    store: Path
    confirmations: int
    build_file: Path = DEFAULT_BUILD

    @classmethod
    def load(cls, path: str | Path) -> BridgeConfigFile:
        """Parse ``path``; relative store and build paths are resolved against its directory."""
        path = Path(path)
        raw = json.loads(path.read_text())
        try:
            chains = [ChainConfig(**c) for c in raw["chains"]]
            store = Path(raw["store"])
            confirmations = int(raw.get("confirmations", 2))
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path}: bad bridge config ({err}); see offchain/bridge/config.py") from err
        if len(chains) < 2:
            raise ValueError(f"{path}: need at least two chains, got {len(chains)}")
        build = Path(raw.get("build_file", DEFAULT_BUILD))
        return cls(
            chains=chains,
            store=store if store.is_absolute() else path.parent / store,
            confirmations=confirmations,
            build_file=build,
        )

    def dump(self, path: str | Path) -> None:
        """Write this configuration as JSON."""
        data: dict[str, Any] = {
            "chains": [c.__dict__ for c in self.chains],
            "store": str(self.store),
            "confirmations": self.confirmations,
            "build_file": str(self.build_file),
        }
        Path(path).write_text(json.dumps(data, indent=2))

    def contracts(self) -> dict[int, Any]:
        """chain id -> web3 Contract of the bridge (connection checked against the configured chain id)."""
        abi = load_artifact("Bridge", self.build_file).abi
        out: dict[int, Any] = {}
        for c in self.chains:
            w3 = Web3(Web3.HTTPProvider(c.rpc, request_kwargs={"timeout": 30}))
            actual = w3.eth.chain_id
            if actual != c.chain_id:
                raise ValueError(f"chain {c.name}: {c.rpc} reports chain id {actual}, config says {c.chain_id}")
            out[c.chain_id] = w3.eth.contract(address=to_checksum_address(c.bridge), abi=abi)
        return out
