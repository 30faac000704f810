"""The deployment record, ``deployments/<ecosystem>-<network>.json``, written after every step.

Layout::

    {"ecosystem", "network", "chain_id", "deployer", "config_digest", "complete",
     "steps": [{"name", "status": "done" | "partial",
                "contracts": {key: {"contract", "address", "tx_hash", "args"}},
                "transactions": [{"call", "tx_hash"}], "blocks": [first, last], "outputs": {...}}]}

``transactions`` lists the wiring calls a step makes itself; calls made inside a domain's deploy function
(role grants, parameters) are the deployer's transactions in the step's ``blocks`` range.

A step is the unit of resumption: a ``done`` step is reused (after checking code exists at its
addresses), a ``partial`` one (the run died inside it) is redone and its contracts are listed under
``abandoned``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DONE = "done"
PARTIAL = "partial"


class RecordConflict(RuntimeError):
    """The record describes a different live deployment; rerun with --force to replace it."""


def jsonable(value: Any) -> Any:
    """Constructor and call arguments as JSON: contracts and accounts become addresses, bytes hex."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if hasattr(value, "address"):
        return str(value.address)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def tx_hash_of(receipt_or_contract: Any) -> str:
    """The transaction hash of an ape receipt or of a deployed ContractInstance (``txn_hash``)."""
    h = getattr(receipt_or_contract, "txn_hash", None)
    if h is None:
        return ""
    return h if isinstance(h, str) else "0x" + bytes(h).hex()


@dataclass
class DeploymentRecord:
    """The JSON document plus the file it is persisted to (atomically, after every change)."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DeploymentRecord:
        path = Path(path)
        data = json.loads(path.read_text()) if path.exists() else {}
        return cls(path=path, data=data)

    @property
    def exists(self) -> bool:
        return bool(self.data)

    @property
    def steps(self) -> list[dict[str, Any]]:
        return self.data.setdefault("steps", [])

    def step(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.steps if s["name"] == name), None)

    def start(self, **header: Any) -> None:
        """Begin a fresh record with ``header`` (ecosystem, network, chain_id, deployer, config_digest)."""
        self.data = {**header, "complete": False, "started_at": int(time.time()), "steps": []}
        self.save()

    def begin_step(self, name: str) -> dict[str, Any]:
        """Open (or reopen, after a crash) step ``name`` as partial; earlier contracts become abandoned."""
        old = self.step(name)
        if old is not None:
            self.data.setdefault("abandoned", []).extend(old.get("contracts", {}).values())
            self.steps.remove(old)
        entry = {"name": name, "status": PARTIAL, "contracts": {}, "transactions": [], "outputs": {}}
        self.steps.append(entry)
        self.save()
        return entry

    def finish_step(self, entry: dict[str, Any], outputs: dict[str, Any]) -> None:
        entry["outputs"] = jsonable(outputs)
        entry["status"] = DONE
        self.save()

    def addresses(self) -> dict[str, str]:
        """Every contract key of the done steps -> address."""
        return {
            key: c["address"] for s in self.steps if s["status"] == DONE for key, c in s.get("contracts", {}).items()
        }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.path)

    def archive(self) -> Path:
        """Move the current file aside (``<name>.<timestamp>.json``) before a forced fresh deployment."""
        target = self.path.with_name(f"{self.path.stem}.replaced-{int(time.time())}.json")
        os.replace(self.path, target)
        self.data = {}
        return target


class _RecordingContainer:
    """Wraps ``project.<Name>`` so that ``deploy`` is recorded in the current step."""

    def __init__(self, container: Any, name: str, on_deploy: Callable[[str, Any, tuple], None]):
        self._container = container
        self._name = name
        self._on_deploy = on_deploy

    def deploy(self, *args: Any, **kwargs: Any) -> Any:
        instance = self._container.deploy(*args, **kwargs)
        self._on_deploy(self._name, instance, args)
        return instance

    def __getattr__(self, item: str) -> Any:
        return getattr(self._container, item)


class RecordingProject:
    """A stand-in for ape's ``project`` handed to the domain deploy functions: every
    ``project.<Name>.deploy(...)`` lands in the record (contract, address, tx hash, constructor args)
    and the file is written at once, so even a crash inside a step leaves a trace."""

    def __init__(self, project: Any, record: DeploymentRecord):
        self._project = project
        self._record = record
        self.entry: dict[str, Any] | None = None

    def _on_deploy(self, name: str, instance: Any, args: tuple) -> None:
        if self.entry is None:
            raise RuntimeError(f"{name} deployed outside a deployment step")
        contracts = self.entry["contracts"]
        key = name if name not in contracts else f"{name}#{sum(1 for k in contracts if k.split('#')[0] == name)}"
        contracts[key] = {
            "contract": name,
            "address": str(instance.address),
            "tx_hash": tx_hash_of(instance),
            "args": jsonable(list(args)),
        }
        self._record.save()

    def record_tx(self, call: str, receipt: Any) -> None:
        """Note a wiring transaction (role grant, listing, parameter) of the current step."""
        if self.entry is not None:
            self.entry["transactions"].append({"call": call, "tx_hash": tx_hash_of(receipt)})

    def __getattr__(self, item: str) -> Any:
        attr = getattr(self._project, item)
        if item[:1].isupper() and hasattr(attr, "deploy"):
            return _RecordingContainer(attr, item, self._on_deploy)
        return attr
