"""The off-chain exchange of the demo: the matcher (offchain/matcher) feeding the batch submitter
(offchain/settlement), with gas metering of every settled batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offchain.matcher.engine import Fill, MarketConfig, Matcher, OrderUpdate
from offchain.orders.order import Domain, SignedOrder
from offchain.settlement.chain import ApeChainClient
from offchain.settlement.fills import batch_tree
from offchain.settlement.store import SubmitterStore, decode_fill
from offchain.settlement.submitter import BatchSubmitter


class MeteredClient(ApeChainClient):
    """The submitter's ape client, remembering the hash of every batch transaction it sends."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    def send(self, prepared: Any) -> None:
        self.sent.append(self.tx_hash(prepared))
        super().send(prepared)


@dataclass
class Exchange:
    """Orders in, fills out, batches settled on chain; keeps the figures the summary prints."""

    matcher: Matcher
    submitter: BatchSubmitter
    client: MeteredClient
    store: SubmitterStore
    provider: Any
    fills: list[Fill] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)
    settled_fills: int = 0
    batch_gas: list[tuple[int, int]] = field(default_factory=list)  # (gas used, fills)

    @classmethod
    def open(cls, deployment: Any, operator: Any, provider: Any, workdir: Path, markets: list[MarketConfig]):
        settlement, engine = deployment.settlement, deployment.engine
        domain = Domain(provider.chain_id, str(settlement.address))
        client = MeteredClient(settlement, engine, operator, provider)
        store = SubmitterStore(workdir / "submitter.sqlite")
        submitter = BatchSubmitter(store, client, max_batch=50, max_wait_s=0.0)
        return cls(Matcher(domain, markets), submitter, client, store, provider)

    @property
    def domain(self) -> Domain:
        return self.matcher.domain

    def submit(self, signed: SignedOrder, now: int) -> list[Any]:
        """Give one signed order to the matcher; fills go to the submitter's store at once."""
        outputs = self.matcher.submit(signed, now)
        new_fills = [o for o in outputs if isinstance(o, Fill)]
        self.updates += [o for o in outputs if isinstance(o, OrderUpdate)]
        if new_fills:
            self.fills += new_fills
            self.submitter.ingest((f.seq, f) for f in new_fills)
        return outputs

    def settle(self) -> int:
        """Settle everything pending; returns the fills settled and meters the batches' gas."""
        before = len(self.client.sent)
        settled = self.submitter.drain()
        self.settled_fills += settled
        for tx in self.client.sent[before:]:
            receipt = self.provider.get_receipt(tx)
            sizes = [int(e.event_arguments["size"]) for e in receipt.events if e.event_name == "BatchSettled"]
            if receipt.status == 1 and sizes:
                self.batch_gas.append((int(receipt.gas_used), sum(sizes)))
        return settled

    def roots_match(self) -> tuple[bool, int]:
        """Every batch the submitter recorded as settled has the same Merkle root on chain as recomputed
        from its stored fills; returns (all match, batches checked)."""
        last = self.client.last_batch_id()
        for batch_id in range(1, last + 1):
            rows = self.store.db.execute(  # read-only look at the submitter's journal
                "SELECT body FROM fills WHERE batch_id = ? AND status = 'settled' ORDER BY leaf_index", (batch_id,)
            ).fetchall()
            fills = [decode_fill(body) for (body,) in rows]
            if not fills or batch_tree(batch_id, fills).root != self.client.batch_root(batch_id):
                return False, batch_id
        return True, last
