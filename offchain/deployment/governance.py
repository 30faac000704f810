"""Parameter changes through the TimelockController that holds Roles.ADMIN after deployment.

A :class:`Proposal` is one call (target, calldata); it is queued (``schedule``) by a proposer, waits
the timelock's minimum delay in public, then anyone listed as executor runs it (``execute``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class Proposal:
    """One timelocked call. ``salt`` distinguishes otherwise identical proposals."""

    target: str
    data: bytes
    description: str
    value: int = 0
    predecessor: bytes = ZERO32

    @property
    def salt(self) -> bytes:
        return keccak(text=self.description)

    def args(self) -> tuple[Any, ...]:
        return (self.target, self.value, self.data, self.predecessor, self.salt)


def encode_call(contract: Any, function: str, args: list[Any]) -> bytes:
    """ABI-encoded call of ``contract.function(*args)`` (selector included)."""
    handler = getattr(contract, function)
    return bytes(handler.encode_input(*args))


def parse_args(text: str) -> list[Any]:
    """Call arguments from a JSON list (numbers, "0x..." addresses or bytes, nested lists for structs)."""
    value = json.loads(text) if text else []
    if not isinstance(value, list):
        raise ValueError(f"arguments must be a JSON list, got {text!r}")
    return value


def proposal_for(contract: Any, function: str, args: list[Any], description: str | None = None) -> Proposal:
    """A proposal calling ``contract.function(*args)``; the default description names the call."""
    desc = description or f"{contract.contract_type.name}.{function}({json.dumps(args)})"
    return Proposal(target=str(contract.address), data=encode_call(contract, function, args), description=desc)


def operation_id(timelock: Any, p: Proposal) -> bytes:
    return bytes(timelock.hashOperation(*p.args()))


def status(timelock: Any, p: Proposal) -> str:
    """``unknown`` (not queued), ``waiting``, ``ready`` or ``done``."""
    op = operation_id(timelock, p)
    if timelock.isOperationDone(op):
        return "done"
    if timelock.isOperationReady(op):
        return "ready"
    if timelock.isOperationPending(op):
        return "waiting"
    return "unknown"


def ready_at(timelock: Any, p: Proposal) -> int:
    """Timestamp from which the proposal can be executed (0 if not queued, 1 if done)."""
    return int(timelock.getTimestamp(operation_id(timelock, p)))


def queue(timelock: Any, p: Proposal, sender: Any, delay: int | None = None) -> Any:
    """Schedule ``p`` with ``delay`` (default: the timelock's minimum). ``sender`` needs PROPOSER_ROLE."""
    return timelock.schedule(*p.args(), timelock.getMinDelay() if delay is None else delay, sender=sender)


def execute(timelock: Any, p: Proposal, sender: Any) -> Any:
    """Execute a ready proposal. ``sender`` needs EXECUTOR_ROLE (unless the executor is open to all)."""
    return timelock.execute(*p.args(), sender=sender, value=p.value)
