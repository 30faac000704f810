"""Bridge relayer: gathers validator signatures from the journal and delivers each transfer on its
destination chain exactly once (``requestRelease``, then ``finalizeRelease`` after a time lock).

Idempotence: the destination's own record (``releases(id)``) is read before any action; every
transaction is journaled (raw bytes and hash) before it is broadcast, and after a restart the same
raw transaction is re-broadcast rather than a new one built. Failures back off exponentially.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from offchain.bridge.messages import Transfer
from offchain.bridge.store import BridgeStore, Row, TransferState

log = logging.getLogger("bridge.relayer")


class OnChainStatus(IntEnum):
    """Bridge.Status."""

    NONE = 0
    PENDING = 1
    EXECUTED = 2
    CANCELLED = 3


@dataclass
class Destination:
    """A chain the relayer delivers to."""

    chain_id: int
    bridge: Any  # web3 Contract


def decode_revert(abi: list[dict[str, Any]], data: str | bytes | None) -> str:
    """Name of the custom error in revert ``data`` (or the raw data if unknown)."""
    if not data:
        return "revert without data"
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    for item in abi:
        if item.get("type") == "error":
            signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            if keccak(text=signature)[:4] == raw[:4]:
                return item["name"]
    return "0x" + raw.hex()


class Relayer:
    """Delivers journaled transfers to their destination bridges."""

    def __init__(
        self,
        account: LocalAccount,
        destinations: dict[int, Destination],
        store: BridgeStore,
        *,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        receipt_timeout: float = 30.0,
    ) -> None:
        self.account = account
        self.destinations = destinations
        self.store = store
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.receipt_timeout = receipt_timeout

    def poll_once(self) -> int:
        """Advance every open transfer by at most one step; returns how many transactions were sent."""
        sent = 0
        for row in self.store.open_transfers(list(self.destinations)):
            try:
                sent += self._advance(row)
            except (Web3RPCError, ConnectionError, TimeoutError) as err:
                delay = self.store.backoff(row.transfer, str(err), base=self.backoff_base, cap=self.backoff_cap)
                log.warning("nonce %d: RPC error %s; retry in %.1fs", row.transfer.nonce, err, delay)
        return sent

    # ------------------------------------------------------------------ steps
    def _advance(self, row: Row) -> int:
        t = row.transfer
        dest = self.destinations[t.dst_chain_id]
        status, approved_epoch, ready_at, ready_block, _ = dest.bridge.functions.releases(t.transfer_id).call()
        status = OnChainStatus(status)
        if status is OnChainStatus.EXECUTED:
            self.store.set_state(t, TransferState.DONE)
            log.info("delivered %s", _label(t))
            return 0
        if status is OnChainStatus.CANCELLED:
            self.store.set_state(t, TransferState.CANCELLED)
            log.warning("cancelled by a guardian on chain %d: %s", t.dst_chain_id, _label(t))
            return 0
        if row.state is TransferState.SUBMITTED and row.tx_hash and not self._settle_submission(dest, row):
            return 0  # still in flight, or re-broadcast just now
        if time.time() < row.next_try:
            return 0
        w3 = dest.bridge.w3
        current_epoch = dest.bridge.functions.epoch().call()
        if status is OnChainStatus.PENDING and approved_epoch == current_epoch:
            head = w3.eth.get_block("latest")
            if head["timestamp"] + 1 < ready_at or head["number"] + 1 < ready_block:
                if row.state is not TransferState.QUEUED:
                    self.store.set_state(t, TransferState.QUEUED)
                    log.info("queued behind the time lock until %d / block %d: %s", ready_at, ready_block, _label(t))
                return 0
            return self._send(dest, t, dest.bridge.functions.finalizeRelease(t.as_tuple()), "finalizeRelease")
        signatures = self._quorum(dest, t)
        if signatures is None:
            return 0
        return self._send(dest, t, dest.bridge.functions.requestRelease(t.as_tuple(), signatures), "requestRelease")

    def _quorum(self, dest: Destination, t: Transfer) -> list[bytes] | None:
        members = set(dest.bridge.functions.validators().call())
        threshold = dest.bridge.functions.threshold().call()
        collected = self.store.signatures("0x" + t.transfer_id.hex())
        usable = sorted((s for s in collected if s in members), key=lambda a: int(a, 16))
        if len(usable) < threshold:
            log.debug("%s: %d of %d signatures", _label(t), len(usable), threshold)
            return None
        return [collected[s] for s in usable[:threshold]]

    def _settle_submission(self, dest: Destination, row: Row) -> bool:
        """Resolve a journaled transaction; True when the transfer may proceed to a new step."""
        w3 = dest.bridge.w3
        try:
            receipt = w3.eth.get_transaction_receipt(row.tx_hash)
        except TransactionNotFound:
            receipt = None
        if receipt is None:
            try:
                w3.eth.get_transaction(row.tx_hash)
                return False  # in the mempool: wait
            except TransactionNotFound:
                pass
            try:
                w3.eth.send_raw_transaction(row.raw_tx)
                log.info("re-broadcast journaled tx %s for %s", row.tx_hash, _label(row.transfer))
            except Web3RPCError as err:  # nonce used by another tx: the journaled one can never land
                log.warning("journaled tx %s cannot land (%s); will rebuild", row.tx_hash, err)
                self.store.clear_submission(row.transfer)
                return True
            return False
        if receipt["status"] == 0:
            self.store.clear_submission(row.transfer)
            delay = self.store.backoff(row.transfer, "reverted", base=self.backoff_base, cap=self.backoff_cap)
            log.warning("tx %s reverted for %s; retry in %.1fs", row.tx_hash, _label(row.transfer), delay)
            return False
        self.store.clear_submission(row.transfer)
        return True

    def _send(self, dest: Destination, t: Transfer, call: Any, what: str) -> int:
        w3 = dest.bridge.w3
        sender = self.account.address
        try:
            gas = call.estimate_gas({"from": sender})
        except (ContractCustomError, ContractLogicError) as err:
            reason = decode_revert(dest.bridge.abi, getattr(err, "data", None))
            delay = self.store.backoff(t, reason, base=self.backoff_base, cap=self.backoff_cap)
            log.warning("%s would revert (%s) for %s; retry in %.1fs", what, reason, _label(t), delay)
            return 0
        tx = call.build_transaction(
            {
                "from": sender,
                "nonce": w3.eth.get_transaction_count(sender, "pending"),
                "gas": gas * 6 // 5,
                "chainId": dest.chain_id,
            }
        )
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        self.store.set_state(t, TransferState.SUBMITTED, tx_hash=tx_hash, raw_tx=bytes(signed.raw_transaction))
        w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        if receipt["status"] != 1:
            self.store.clear_submission(t)
            delay = self.store.backoff(t, "reverted", base=self.backoff_base, cap=self.backoff_cap)
            log.warning("%s %s reverted for %s; retry in %.1fs", what, tx_hash, _label(t), delay)
            return 1
        status = OnChainStatus(dest.bridge.functions.releases(t.transfer_id).call()[0])
        self.store.clear_submission(t)
        self.store.set_state(t, TransferState.DONE if status is OnChainStatus.EXECUTED else TransferState.QUEUED)
        log.info("%s %s in block %d (gas %d): %s", what, tx_hash, receipt["blockNumber"], receipt["gasUsed"], _label(t))
        return 1


def _label(t: Transfer) -> str:
    return f"transfer {t.src_chain_id}->{t.dst_chain_id} nonce {t.nonce} amount {t.amount} to {t.recipient}"
