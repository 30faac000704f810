"""Bridge validator: watches ``Locked`` events on a source chain and signs each transfer for its
destination bridge once it has the configured number of confirmations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from offchain.bridge.messages import Transfer, sign_transfer
from offchain.bridge.store import BridgeStore

log = logging.getLogger("bridge.validator")

MAX_RANGE = 2_000


@dataclass
class SourceChain:
    """A chain whose bridge the validator watches, and the bridges it may deliver to."""

    chain_id: int
    bridge: Any  # web3 Contract of the source bridge
    destinations: dict[int, str]  # dst chain id -> dst bridge address
    start_block: int = 0


class BridgeValidator:
    """One validator key signing Lock events of one source chain."""

    def __init__(self, key: str | bytes, source: SourceChain, store: BridgeStore, *, confirmations: int) -> None:
        if confirmations < 0:
            raise ValueError(f"confirmations must be >= 0, got {confirmations}")
        self.account: LocalAccount = Account.from_key(key)
        self.source = source
        self.store = store
        self.confirmations = confirmations
        self._cursor_name = f"validator:{self.account.address}:{source.chain_id}:{source.bridge.address}"

    def poll_once(self) -> int:
        """Scan newly confirmed blocks; returns the number of transfers signed."""
        w3 = self.source.bridge.w3
        safe = w3.eth.block_number - self.confirmations
        start = self.store.cursor(self._cursor_name, self.source.start_block - 1) + 1
        signed = 0
        while start <= safe:
            end = min(safe, start + MAX_RANGE - 1)
            for event in self.source.bridge.events.Locked.get_logs(from_block=start, to_block=end):
                signed += self._sign(event)
            self.store.set_cursor(self._cursor_name, end)
            start = end + 1
        return signed

    def _sign(self, event: Any) -> int:
        args = event["args"]
        dst_bridge = self.source.destinations.get(args["dstChainId"])
        if dst_bridge is None:
            log.warning("skip nonce %s: no destination bridge known for chain %s", args["nonce"], args["dstChainId"])
            return 0
        transfer = Transfer(
            src_chain_id=self.source.chain_id,
            dst_chain_id=args["dstChainId"],
            src_bridge=to_checksum_address(event["address"]),
            nonce=args["nonce"],
            token=to_checksum_address(args["remoteToken"]),
            sender=to_checksum_address(args["sender"]),
            recipient=to_checksum_address(args["recipient"]),
            amount=args["amount"],
        )
        self.store.add_signature(transfer, self.account.address, sign_transfer(self.account.key, transfer, dst_bridge))
        log.info(
            "validator %s signed %s->%s nonce %d amount %d",
            self.account.address[:10],
            transfer.src_chain_id,
            transfer.dst_chain_id,
            transfer.nonce,
            transfer.amount,
        )
        return 1
