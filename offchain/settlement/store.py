"""Durable progress of the batch submitter (SQLite).

Tables:

- ``fills``: every fill taken from the source, keyed by the source's sequence number. ``status`` is
  ``pending`` (waiting for a batch), ``batched`` (in batch ``batch_id`` at ``leaf_index``), ``settled``
  or ``dropped`` (refused by the chain; ``reason`` says why).
- ``batches``: batches cut but not yet known settled (``built`` -> ``sent`` -> ``settled``), with the
  root computed off chain and the last transaction hash.
- ``meta``: ``acked_seq``, the highest source sequence number durably stored (the feeder resumes after it).

Every state change is one SQLite transaction (``synchronous=FULL``), so a crash leaves either the old or
the new state, never a mix.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from offchain.orders.order import SignedOrder
from offchain.settlement.fills import SettlementFill

SCHEMA = """
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    batch_id INTEGER,
    leaf_index INTEGER,
    reason TEXT,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_status ON fills(status, seq);
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    status TEXT NOT NULL,
    tx_hash TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredFill:
    """A fill as stored: its source sequence number and the fill."""

    seq: int
    fill: SettlementFill


@dataclass(frozen=True)
class StoredBatch:
    """A batch cut but not yet known settled."""

    batch_id: int
    root: bytes
    status: str
    tx_hash: str | None
    fills: list[StoredFill]


def encode_fill(fill: SettlementFill) -> str:
    """JSON of a fill (both signed orders, size, price)."""
    return json.dumps(
        {"maker": fill.maker.to_json(), "taker": fill.taker.to_json(), "size": fill.size_x18, "price": fill.price_x18}
    )


def decode_fill(body: str) -> SettlementFill:
    """Inverse of :func:`encode_fill`."""
    d = json.loads(body)
    return SettlementFill(SignedOrder.from_json(d["maker"]), SignedOrder.from_json(d["taker"]), d["size"], d["price"])


class SubmitterStore:
    """SQLite-backed progress; one instance per process."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ fills

    def add_fills(self, items: Sequence[tuple[int, SettlementFill]], now: float) -> int:
        """Store fills not seen before (by sequence number); returns how many were new."""
        added = 0
        with self.tx() as db:
            for seq, fill in items:
                cur = db.execute(
                    "INSERT OR IGNORE INTO fills(seq, body, received_at) VALUES (?, ?, ?)",
                    (seq, encode_fill(fill), now),
                )
                added += cur.rowcount
            if items:
                top = max(seq for seq, _ in items)
                db.execute(
                    "INSERT INTO meta(key, value) VALUES ('acked_seq', ?) ON CONFLICT(key) DO UPDATE SET "
                    "value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                    (str(top),),
                )
        return added

    def acked_seq(self) -> int:
        """Highest source sequence number durably stored (0 if none)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'acked_seq'").fetchone()
        return int(row[0]) if row else 0

    def pending(self, limit: int) -> list[StoredFill]:
        rows = self.db.execute(
            "SELECT seq, body FROM fills WHERE status = 'pending' ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [StoredFill(seq, decode_fill(body)) for seq, body in rows]

    def pending_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM fills WHERE status = 'pending'").fetchone()[0]

    def oldest_pending_at(self) -> float | None:
        row = self.db.execute("SELECT min(received_at) FROM fills WHERE status = 'pending'").fetchone()
        return row[0]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, count(*) FROM fills GROUP BY status").fetchall())

    def dropped(self) -> list[tuple[int, str]]:
        return self.db.execute("SELECT seq, reason FROM fills WHERE status = 'dropped' ORDER BY seq").fetchall()

    def settled_seqs(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT seq FROM fills WHERE status = 'settled' ORDER BY seq")]

    # ------------------------------------------------------------------ batches

    def max_batch_id(self) -> int:
        row = self.db.execute("SELECT max(batch_id) FROM fills WHERE batch_id IS NOT NULL").fetchone()
        return row[0] or 0

    def create_batch(self, batch_id: int, root: bytes, seqs: Sequence[int], now: float) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO batches(batch_id, root, status, created_at) VALUES (?, ?, 'built', ?)",
                (batch_id, root, now),
            )
            for index, seq in enumerate(seqs):
                cur = db.execute(
                    "UPDATE fills SET status = 'batched', batch_id = ?, leaf_index = ? "
                    "WHERE seq = ? AND status = 'pending'",
                    (batch_id, index, seq),
                )
                if cur.rowcount != 1:
                    raise RuntimeError(f"fill {seq} is not pending; refusing to batch it twice")

    def mark_sent(self, batch_id: int, tx_hash: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE batches SET status = 'sent', tx_hash = ? WHERE batch_id = ?", (tx_hash, batch_id))

    def mark_settled(self, batch_id: int) -> None:
        with self.tx() as db:
            db.execute("UPDATE fills SET status = 'settled' WHERE batch_id = ? AND status = 'batched'", (batch_id,))
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def drop_and_release(self, batch_id: int, seq: int, reason: str) -> None:
        """The batch failed because of fill ``seq``: drop it (with the reason), return the others to pending."""
        with self.tx() as db:
            db.execute("UPDATE fills SET status = 'dropped', reason = ?, batch_id = NULL WHERE seq = ?", (reason, seq))
            db.execute(
                "UPDATE fills SET status = 'pending', batch_id = NULL, leaf_index = NULL "
                "WHERE batch_id = ? AND status = 'batched'",
                (batch_id,),
            )
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def open_batches(self) -> list[StoredBatch]:
        """Batches cut but not known settled, lowest id first, with their fills in leaf order."""
        out = []
        for batch_id, root, status, tx_hash in self.db.execute(
            "SELECT batch_id, root, status, tx_hash FROM batches ORDER BY batch_id"
        ).fetchall():
            rows = self.db.execute(
                "SELECT seq, body FROM fills WHERE batch_id = ? AND status = 'batched' ORDER BY leaf_index", (batch_id,)
            ).fetchall()
            out.append(
                StoredBatch(batch_id, bytes(root), status, tx_hash, [StoredFill(s, decode_fill(b)) for s, b in rows])
            )
        return out


def fill_line(seq: int, fill: SettlementFill) -> str:
    """One JSON-lines record of the submitter's input format: ``{"seq": n, "maker": ..., "taker": ..., ...}``."""
    return json.dumps({"seq": seq, **json.loads(encode_fill(fill))})


def parse_fill_line(line: str) -> tuple[int, SettlementFill]:
    """Inverse of :func:`fill_line`; raises ``ValueError`` naming the problem."""
    try:
        d = json.loads(line)
        return int(d.pop("seq")), decode_fill(json.dumps(d))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"bad fill record: {exc}: {line[:120]!r}") from None
