"""The batch submitter: fills -> batches -> ``Settlement.settleBatch``, idempotent across restarts.

Guarantees (with the SQLite store and the contract's consecutive batch ids):

- A fill is stored (keyed by its source sequence number) before anything else happens to it; a source
  that re-delivers after a restart is de-duplicated, and ``acked_seq`` tells it where to resume.
- A batch is written (id, fills, root) before it is sent, and the signed transaction's hash before it is
  broadcast; a crash may fall between any two steps (cut, signed, sent, confirmed, recorded). On
  restart every open batch is reconciled with the chain first: if the chain's
  ``lastBatchId`` has reached it, its on-chain root must equal ours and its fills are marked settled;
  otherwise the earlier transaction is awaited and, if it never landed, the batch is sent again. A batch
  id settles at most once on chain, so a duplicate send can only revert, never settle twice.
- A batch that would revert (simulated before sending) or did revert is reported with the failing fill
  and reason; that fill is dropped with its reason recorded, the rest go back to pending and are
  re-batched under the same id, so nothing is stuck behind a bad fill.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from offchain.settlement.chain import ChainClient, SettlementRevert
from offchain.settlement.fills import SettlementFill, batch_tree
from offchain.settlement.store import StoredBatch, SubmitterStore

LOG = logging.getLogger("perpx.settlement")


class SubmitterError(RuntimeError):
    """A state the submitter must not paper over (root mismatch, batch id gap, unblamable revert)."""


class BatchSubmitter:
    """Cuts batches by size or age and settles them one at a time."""

    def __init__(
        self,
        store: SubmitterStore,
        client: ChainClient,
        *,
        max_batch: int = 100,
        max_wait_s: float = 2.0,
        clock: Callable[[], float] = time.time,
        crash_hook: Callable[[str], None] | None = None,
        wait_timeout_s: float = 30.0,
        confirm_timeout_s: float = 120.0,
        log: logging.Logger = LOG,
    ):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.store = store
        self.client = client
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.crash_hook = crash_hook
        self.wait_timeout_s = wait_timeout_s
        self.confirm_timeout_s = confirm_timeout_s
        self.log = log

    # ------------------------------------------------------------------ input

    def ingest(self, items: Iterable[tuple[int, Any]]) -> int:
        """Durably store ``(seq, fill)`` pairs (a matcher ``Fill`` or :class:`SettlementFill`); returns new ones."""
        batch = [(int(seq), SettlementFill.of(fill)) for seq, fill in items]
        added = self.store.add_fills(batch, self.clock())
        if added:
            self.log.info("stored %d new fills (acked seq %d)", added, self.store.acked_seq())
        return added

    # ------------------------------------------------------------------ main loop

    def step(self, *, force: bool = False) -> int:
        """Reconcile open batches, then cut and settle at most one new batch; returns fills settled."""
        settled = self.recover()
        batch = self.cut(force=force)
        if batch is not None:
            settled += self._settle(batch)
        return settled

    def drain(self) -> int:
        """Settle everything pending (ignoring the age rule)."""
        total = self.recover()
        while self.store.pending_count():
            total += self.step(force=True)
        return total

    def run(self, source: Iterable[tuple[int, Any]], chunk: int = 100) -> int:
        """Consume ``source`` (``(seq, fill)`` pairs), settling as batches fill up, then drain."""
        total = self.recover()
        buffer: list[tuple[int, Any]] = []
        for item in source:
            buffer.append(item)
            if len(buffer) >= chunk:
                self.ingest(buffer)
                buffer = []
                total += self.step()
        if buffer:
            self.ingest(buffer)
        return total + self.drain()

    # ------------------------------------------------------------------ batches

    def recover(self) -> int:
        """Bring every batch cut before (possibly before a crash) to a final state."""
        return sum(self._settle(batch) for batch in self.store.open_batches())

    def cut(self, *, force: bool = False) -> StoredBatch | None:
        """Cut the next batch when ``max_batch`` fills wait, the oldest waited ``max_wait_s``, or ``force``."""
        waiting = self.store.pending_count()
        if waiting == 0:
            return None
        oldest = self.store.oldest_pending_at() or self.clock()
        if not force and waiting < self.max_batch and self.clock() - oldest < self.max_wait_s:
            return None
        fills = self.store.pending(self.max_batch)
        batch_id = max(self.store.max_batch_id(), self.client.last_batch_id()) + 1
        root = batch_tree(batch_id, [f.fill for f in fills]).root
        self.store.create_batch(batch_id, root, [f.seq for f in fills], self.clock())
        self.log.info("batch %d cut: %d fills, root 0x%s", batch_id, len(fills), root.hex())
        self._crash("after_cut")
        return StoredBatch(batch_id, root, "built", None, fills)

    def _settle(self, batch: StoredBatch) -> int:
        if self._already_settled(batch):
            return len(batch.fills)
        last = self.client.last_batch_id()
        if batch.batch_id != last + 1:
            raise SubmitterError(f"batch {batch.batch_id} cannot follow the chain's last batch {last}")
        if batch.tx_hash is not None:
            status = self.client.wait(batch.tx_hash, self.wait_timeout_s)
            if status and self._already_settled(batch):
                return len(batch.fills)
        fills = [f.fill for f in batch.fills]
        try:
            prepared = self.client.prepare(batch.batch_id, batch.root, fills)
        except SettlementRevert as err:
            if self._already_settled(batch):  # an earlier send landed meanwhile
                return len(batch.fills)
            self._reject(batch, err)
            return 0
        tx_hash = self.client.tx_hash(prepared)
        self.store.mark_sent(batch.batch_id, tx_hash)
        self.log.info("batch %d sending: tx %s", batch.batch_id, tx_hash)
        self._crash("after_sign")
        self.client.send(prepared)
        self._crash("after_send")  # submitted, confirmation not yet seen
        ok = self.client.wait(tx_hash, self.confirm_timeout_s)
        if ok is None:
            raise SubmitterError(f"batch {batch.batch_id}: tx {tx_hash} not confirmed in time; a restart reconciles it")
        self._crash("after_confirm")
        if not ok:
            if self._already_settled(batch):
                return len(batch.fills)
            try:
                self.client.prepare(batch.batch_id, batch.root, fills)
            except SettlementRevert as err:
                self._reject(batch, err)
                return 0
            raise SubmitterError(f"batch {batch.batch_id} reverted on chain but simulates fine; retry later")
        if not self._already_settled(batch):
            raise SubmitterError(
                f"batch {batch.batch_id}: transaction {tx_hash} succeeded but the batch is not on chain"
            )
        self._crash("after_settled")
        return len(batch.fills)

    def _already_settled(self, batch: StoredBatch) -> bool:
        """True (and recorded) when the chain holds this batch; raises if it holds a different root."""
        if self.client.last_batch_id() < batch.batch_id:
            return False
        onchain = self.client.batch_root(batch.batch_id)
        if onchain != batch.root:
            raise SubmitterError(
                f"batch {batch.batch_id} on chain has root 0x{onchain.hex()}, ours is 0x{batch.root.hex()}"
            )
        self.store.mark_settled(batch.batch_id)
        self.log.info("batch %d settled: %d fills, root 0x%s matches", batch.batch_id, len(batch.fills), onchain.hex())
        return True

    def _reject(self, batch: StoredBatch, err: SettlementRevert) -> None:
        index = err.blamed_fill([f.fill for f in batch.fills])
        if index is None:
            raise SubmitterError(f"batch {batch.batch_id} reverts with {err}, which names no fill") from err
        seq = batch.fills[index].seq
        reason = f"batch {batch.batch_id} fill {index}: {err}"
        self.store.drop_and_release(batch.batch_id, seq, reason)
        self.log.warning("dropped fill seq %d (%s); %d others back to pending", seq, reason, len(batch.fills) - 1)

    def _crash(self, point: str) -> None:
        if self.crash_hook is not None:
            self.crash_hook(point)


#: Named points where :class:`BatchSubmitter` calls its crash hook, in the order a batch passes them.
CRASH_POINTS = ("after_cut", "after_sign", "after_send", "after_confirm", "after_settled")


def crash_hook_from_env(environ: Mapping[str, str]) -> Callable[[str], None] | None:
    """A hook that SIGKILLs this process at ``PERPX_CRASH_AT=<point>[:<n>]`` (the n-th time, default 1).

    For crash tests of the real process: no cleanup handler runs, exactly like a power cut.
    """
    spec = environ.get("PERPX_CRASH_AT", "").strip()
    if not spec:
        return None
    point, _, nth = spec.partition(":")
    if point not in CRASH_POINTS:
        raise ValueError(f"PERPX_CRASH_AT: unknown point {point!r}; expected one of {', '.join(CRASH_POINTS)}")
    target = int(nth) if nth else 1
    seen = {"n": 0}

    def hook(name: str) -> None:
        if name != point:
            return
        seen["n"] += 1
        if seen["n"] == target:
            LOG.warning("PERPX_CRASH_AT=%s: killing process %d at %s", spec, os.getpid(), name)
            logging.shutdown()
            os.kill(os.getpid(), signal.SIGKILL)

    return hook
