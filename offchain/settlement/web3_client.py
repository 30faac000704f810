"""A :class:`~offchain.settlement.chain.ChainClient` on plain web3.py with a local signing key.

Used by the ``python -m offchain.settlement.run`` entry point: it needs no ape project at run time, only
an RPC URL, the operator key and the compiled ABIs (read from ape's build manifest).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address, to_hex

from offchain.settlement.chain import SettlementRevert, decode_revert_data, error_table_from_abis
from offchain.settlement.fills import SettlementFill, encode_batch


def load_abis(manifest: Path, *names: str) -> list[list[dict[str, Any]]]:
    """ABIs of the named contracts from ape's build manifest (``.build/__local__.json``)."""
    types = json.loads(manifest.read_text())["contractTypes"]
    missing = [n for n in names if n not in types]
    if missing:
        raise ValueError(f"{manifest}: no compiled contract named {', '.join(missing)} (run `ape compile`)")
    return [types[n]["abi"] for n in names]


class Web3ChainClient:
    """Settlement through a web3 ``w3``; ``private_key`` signs as the operator (holding Roles.OPERATOR)."""

    def __init__(self, w3: Any, settlement_address: str, settlement_abi: list, engine_abi: list, private_key: str):
        self.w3 = w3
        self.account = Account.from_key(private_key)
        self.settlement = w3.eth.contract(address=to_checksum_address(settlement_address), abi=settlement_abi)
        self._errors = error_table_from_abis(settlement_abi, engine_abi)

    def last_batch_id(self) -> int:
        return int(self.settlement.functions.lastBatchId().call())

    def batch_root(self, batch_id: int) -> bytes:
        return bytes(self.settlement.functions.batches(batch_id).call()[0])

    def prepare(self, batch_id: int, root: bytes, fills: Sequence[SettlementFill]) -> Any:
        """Simulate (decoding a custom-error revert), then sign with a fresh nonce and a gas estimate."""
        from web3.exceptions import ContractCustomError, ContractLogicError

        fn = self.settlement.functions.settleBatch(batch_id, root, encode_batch(fills))
        sender = {"from": self.account.address}
        try:
            fn.call(sender)
            gas = fn.estimate_gas(sender)
        except (ContractCustomError, ContractLogicError) as err:
            data = err.data if isinstance(err.data, str) else None
            raise (decode_revert_data(self._errors, data) if data else None) or SettlementRevert(
                "Revert", {"message": str(err)}
            ) from None
        tx = fn.build_transaction(
            {
                "from": self.account.address,
                "nonce": self.w3.eth.get_transaction_count(self.account.address, "pending"),
                "gas": gas * 12 // 10 + 50_000,
                "chainId": self.w3.eth.chain_id,
            }
        )
        return self.account.sign_transaction(tx)

    def tx_hash(self, prepared: Any) -> str:
        return to_hex(prepared.hash)

    def send(self, prepared: Any) -> None:
        raw = getattr(prepared, "raw_transaction", None) or prepared.rawTransaction
        self.w3.eth.send_raw_transaction(raw)

    def wait(self, tx_hash: str, timeout: float) -> bool | None:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        except Exception:  # not found / not mined in time
            return None
        return bool(receipt["status"])
