"""Where the gas of one settled batch goes: a breakdown from anvil's ``debug_traceTransaction``.

Used to write the "Gas per fill" section of offchain/settlement/README.md (``ape run settle_gas_trace``).
Struct logs are fetched over JSON-RPC (memory and return data disabled) and summed over the batch:

- by opcode class (storage, logs, calls, hashing, precompiles, the rest),
- by contract (the code executing the step),
- storage slots: cold/warm SLOAD, and SSTORE by kind (zero->nonzero, nonzero->nonzero, no-op).

Each step is charged its own gas: a call step that ran code is charged what the caller lost across the
call minus what the callee's steps spent (access, value, memory expansion); a precompile call step what
the caller lost across it. The sum over all steps is the executed gas (gasUsed minus intrinsic gas and
refunds). ``difference`` of two breakdowns (batches of B and B0 fills of the same scenario) gives the
marginal cost of B - B0 fills, without the batch's fixed part.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

CLASSES = {
    "SLOAD": "storage read",
    "SSTORE": "storage write",
    "TLOAD": "transient",
    "TSTORE": "transient",
    "LOG0": "events",
    "LOG1": "events",
    "LOG2": "events",
    "LOG3": "events",
    "LOG4": "events",
    "CALL": "calls",
    "STATICCALL": "calls",
    "DELEGATECALL": "calls",
    "EXTCODESIZE": "calls",
    "KECCAK256": "hashing",
    "SHA3": "hashing",
}
CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}


@dataclass
class Breakdown:
    """Gas of one transaction by class, contract and storage-access kind."""

    steps: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    by_contract: Counter[str] = field(default_factory=Counter)
    storage: Counter[str] = field(default_factory=Counter)
    storage_gas: Counter[str] = field(default_factory=Counter)
    slots: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    logs: Counter[str] = field(default_factory=Counter)


def trace(uri: str, tx_hash: str) -> list[dict[str, Any]]:
    """The struct logs of ``tx_hash`` (memory, return data and storage left out)."""
    opts = {"disableMemory": True, "disableStorage": True, "enableReturnData": False}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": [tx_hash, opts]})
    req = urllib.request.Request(uri, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.loads(resp.read())["result"]["structLogs"]


def own_costs(logs: list[dict[str, Any]]) -> list[int]:
    """Gas charged to each step itself; a call step that ran code is charged its own part only (access,
    value, memory expansion, the 63/64 reserve it got back), its callee's steps carry the rest."""
    cost = [s["gasCost"] for s in logs]
    pending: list[int] = []  # call steps whose callee is running
    ends: list[tuple[int, int]] = []
    for k, step in enumerate(logs):
        while pending and logs[pending[-1]]["depth"] >= step["depth"]:
            ends.append((pending.pop(), k))
        if step["op"] in CALLS and k + 1 < len(logs):
            if logs[k + 1]["depth"] == step["depth"] + 1:
                pending.append(k)
            else:  # precompile or no code: what the caller lost across the step
                cost[k] = step["gas"] - logs[k + 1]["gas"]
    total = len(logs)
    ends += [(k, total) for k in pending]
    for k, j in sorted(ends, reverse=True):
        after = logs[j]["gas"] if j < total else logs[-1]["gas"] - logs[-1]["gasCost"]
        cost[k] = logs[k]["gas"] - after - sum(cost[k + 1 : j])
    return cost


def breakdown(logs: list[dict[str, Any]], to: str, names: dict[str, str]) -> Breakdown:
    """Sums the struct logs of a call to ``to``; ``names`` maps lower-case addresses to contract names."""
    out = Breakdown(steps=len(logs))
    costs = own_costs(logs)
    frames = [to.lower()]
    warm: set[tuple[str, str]] = set()
    for k, step in enumerate(logs):
        op, depth = step["op"], step["depth"]
        del frames[depth:]
        addr = frames[depth - 1]
        cost = costs[k]
        if op in CALLS and k + 1 < len(logs) and logs[k + 1]["depth"] == depth + 1:
            target = "0x" + step["stack"][-2][2:].lower().rjust(40, "0")[-40:]
            frames.append(target if op != "DELEGATECALL" else addr)
        cls = CLASSES.get(op, "compute/memory")
        if op in ("CALLDATALOAD", "CALLDATACOPY", "CALLDATASIZE"):
            cls = "calldata read"
        name = names.get(addr, addr)
        out.by_class[cls] += cost
        out.by_contract[name] += cost
        if op in ("SLOAD", "SSTORE"):
            slot = step["stack"][-1]
            key = (addr, slot)
            cold = key not in warm
            if op == "SLOAD":
                kind = "SLOAD cold" if cold else "SLOAD warm"
            else:
                kind = "SSTORE " + ("cold " if cold else "") + _store_kind(cost, cold)
            warm.add(key)
            out.storage[f"{name}: {kind}"] += 1
            out.storage_gas[f"{name}: {kind}"] += cost
            out.slots[name].add(slot)
        if op.startswith("LOG"):
            out.logs[f"{name} {op}"] += 1
            out.storage_gas[f"{name}: {op}"] += cost
    return out


def _store_kind(cost: int, cold: bool) -> str:
    base = cost - (2100 if cold else 0)
    if base >= 20000:
        return "zero->nonzero"
    if base >= 2900:
        return "nonzero->nonzero"
    return "no-op/dirty"


def difference(big: Breakdown, small: Breakdown) -> Breakdown:
    """``big - small`` per key (negative entries kept): the gas of the extra fills of the larger batch."""
    out = Breakdown(steps=big.steps - small.steps)
    for name in ("by_class", "by_contract", "storage", "storage_gas", "logs"):
        a, b = getattr(big, name), getattr(small, name)
        getattr(out, name).update({k: a[k] - b[k] for k in set(a) | set(b)})
    return out
