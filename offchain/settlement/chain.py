"""The submitter's view of the chain: an ape-backed client and decoded settlement reverts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_hex

from offchain.settlement.fills import SettlementFill, encode_batch

#: ISettlement.FillError names, by value.
FILL_ERRORS = (
    "None", "EmptyFill", "ZeroTrader", "InvalidOrderFields", "SelfTrade", "MarketMismatch", "SameSide",
    "MarketNotTradable", "PriceNotMakerLimit", "PriceOutsideTakerLimit", "TakerPostOnly", "MakerExpired",
    "TakerExpired", "MakerBadSignature", "TakerBadSignature", "MakerCancelled", "TakerCancelled", "MakerOverfill",
    "TakerOverfill", "TakerFeeAboveMax", "MakerNotAllowed", "TakerNotAllowed",
)  # fmt: skip


@dataclass
class SettlementRevert(Exception):
    """A reverted (or simulated) ``settleBatch``: the custom error's name and inputs."""

    name: str
    inputs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.inputs.items())
        if self.name == "SettlementFillRejected":
            reason = int(self.inputs.get("reason", 0))
            label = FILL_ERRORS[reason] if reason < len(FILL_ERRORS) else str(reason)
            return f"SettlementFillRejected(fillIndex={self.inputs.get('fillIndex')}, reason={label})"
        return f"{self.name}({args})"

    def blamed_fill(self, fills: Sequence[SettlementFill]) -> int | None:
        """Index of the fill this error blames: the named fill, or for an account-level engine error
        (margin, position count) the last fill of the batch that touches the account."""
        if "fillIndex" in self.inputs:
            index = int(self.inputs["fillIndex"])
            return index if 0 <= index < len(fills) else None
        account = self.inputs.get("account")
        if account is not None:
            account = str(account).lower()
            for index in range(len(fills) - 1, -1, -1):
                f = fills[index]
                if account in (f.maker.order.trader.lower(), f.taker.order.trader.lower()):
                    return index
        return None


class ChainClient(Protocol):
    """What the submitter needs from the chain (tests can substitute their own)."""

    def last_batch_id(self) -> int: ...

    def batch_root(self, batch_id: int) -> bytes: ...

    def prepare(self, batch_id: int, root: bytes, fills: Sequence[SettlementFill]) -> Any:
        """Simulate and sign; raises :class:`SettlementRevert` if the batch would revert."""

    def tx_hash(self, prepared: Any) -> str: ...

    def send(self, prepared: Any) -> None:
        """Broadcast the signed transaction without waiting for it (see :meth:`wait`)."""

    def wait(self, tx_hash: str, timeout: float) -> bool | None:
        """Status of an earlier transaction: True/False once mined, None if unknown or not mined in time."""


ErrorTable = dict[bytes, tuple[str, list[str], list[str]]]


def error_table_of(*contracts: Any) -> ErrorTable:
    """Custom errors of ape contracts by selector (see :func:`error_table_from_abis`)."""
    return error_table_from_abis(*(contract.contract_type.model_dump(mode="json")["abi"] for contract in contracts))


def _canonical_type(item: dict[str, Any]) -> str:
    """The canonical ABI type of an input (tuples expanded)."""
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in item["components"]) + ")" + kind[len("tuple") :]
    return kind


def error_table_from_abis(*abis: Sequence[dict[str, Any]]) -> ErrorTable:
    """Custom errors of JSON ABIs by 4-byte selector: (name, input types, input names)."""
    table: ErrorTable = {}
    for abi in abis:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_canonical_type(i) for i in item.get("inputs", [])]
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            table[selector] = (item["name"], types, [i["name"] for i in item.get("inputs", [])])
    return table


def decode_revert_data(table: ErrorTable, data: str) -> SettlementRevert | None:
    """Decode ``0x``-prefixed revert data with an error table, or None if it is no known custom error."""
    if not (data.startswith("0x") and len(data) >= 10):
        return None
    raw = bytes.fromhex(data[2:])
    entry = table.get(raw[:4])
    if entry is None:
        return None
    name, types, names = entry
    return SettlementRevert(name, dict(zip(names, abi_decode(types, raw[4:]), strict=True)))


class ApeChainClient:
    """Settlement through ape: the operator account signs; errors of Settlement and the engine are decoded."""

    def __init__(self, settlement: Any, engine: Any, operator: Any, provider: Any):
        self.settlement = settlement
        self.operator = operator
        self.provider = provider
        self._errors = error_table_of(settlement, engine)

    def last_batch_id(self) -> int:
        return int(self.settlement.lastBatchId())

    def batch_root(self, batch_id: int) -> bytes:
        return bytes(self.settlement.batches(batch_id).root)

    def prepare(self, batch_id: int, root: bytes, fills: Sequence[SettlementFill]) -> Any:
        args = (batch_id, root, encode_batch(fills))
        self._simulate(args)
        try:
            return self.settlement.settleBatch.as_transaction(*args, sender=self.operator, sign=True)
        except Exception as exc:  # ape raises ContractLogicError subclasses for reverts in gas estimation
            raise self.decode(exc) from None

    def _simulate(self, args: tuple) -> None:
        """``eth_call`` the batch through web3, which keeps the raw revert data on every provider
        (on anvil, ape flattens a view's custom-error data into a string it cannot decode)."""
        from web3.exceptions import ContractCustomError, ContractLogicError

        call = {"from": self.operator.address, "to": self.settlement.address}
        call["data"] = self.settlement.settleBatch.encode_input(*args)
        try:
            self.provider.web3.eth.call(call)
        except (ContractCustomError, ContractLogicError) as err:
            data = err.data if isinstance(err.data, str) else None
            revert = self.decode_data(data) if data else None
            raise revert or SettlementRevert("Revert", {"message": str(err)}) from None

    def decode_data(self, data: str) -> SettlementRevert | None:
        """Decode ``0x``-prefixed revert data with the Settlement and engine error tables."""
        return decode_revert_data(self._errors, data)

    def tx_hash(self, prepared: Any) -> str:
        return to_hex(prepared.txn_hash)

    def send(self, prepared: Any) -> None:
        self.provider.web3.eth.send_raw_transaction(prepared.serialize_transaction())

    def wait(self, tx_hash: str, timeout: float) -> bool | None:
        try:
            receipt = self.provider.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        except Exception:  # not found / not mined in time
            return None
        return bool(receipt["status"])

    @staticmethod
    def _is_revert(exc: Exception) -> bool:
        from ape.exceptions import ContractLogicError

        return isinstance(exc, ContractLogicError)

    def decode(self, exc: Exception) -> Exception:
        """A :class:`SettlementRevert` for a revert with custom-error data, else ``exc`` itself."""
        abi = getattr(exc, "abi", None)
        inputs = getattr(exc, "inputs", None)
        if abi is not None and isinstance(inputs, dict):
            return SettlementRevert(abi.name, dict(inputs))
        data = getattr(exc, "revert_message", None) or ""
        if isinstance(data, str) and (decoded := self.decode_data(data)) is not None:
            return decoded
        if self._is_revert(exc):
            return SettlementRevert("Revert", {"message": str(exc)})
        return exc
