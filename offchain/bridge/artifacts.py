"""Contract ABIs and bytecode from ape's build output (``.build/__local__.json``), for web3.py users."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_BUILD = Path(".build/__local__.json")


@dataclass(frozen=True)
class Artifact:
    """ABI and deployment bytecode of one contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def load_artifact(name: str, build_file: str | Path = DEFAULT_BUILD) -> Artifact:
    """Read contract ``name`` from ape's build manifest; run ``ape compile`` first."""
    path = Path(build_file)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `ape compile` (or `make setup`) in the project root")
    types = json.loads(path.read_text())["contractTypes"]
    if name not in types:
        raise KeyError(f"contract {name!r} not in {path}; known: {', '.join(sorted(types))}")
    ct = types[name]
    return Artifact(name=name, abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
