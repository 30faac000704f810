"""SQLite journal shared by validators and the relayer: transfers, signatures, scan cursors.

Validators append signatures; the relayer records each submission *before* broadcasting it (the
signed raw transaction and its hash), so a restart re-broadcasts the very same transaction instead of
sending a new one. SQLite in WAL mode lets separate processes share the file.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from offchain.bridge.messages import Transfer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transfers (
    id TEXT PRIMARY KEY,
    dst_chain INTEGER NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    tx_hash TEXT,
    raw_tx BLOB,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS signatures (
    id TEXT NOT NULL,
    signer TEXT NOT NULL,
    sig BLOB NOT NULL,
    PRIMARY KEY (id, signer)
);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, block INTEGER NOT NULL);
"""


class TransferState(StrEnum):
    """Relayer-side state of a transfer."""

    NEW = "new"  # seen by a validator, not submitted
    SUBMITTED = "submitted"  # a transaction was signed and journaled (maybe broadcast)
    QUEUED = "queued"  # approved on chain, waiting for the time lock
    DONE = "done"  # executed on the destination
    CANCELLED = "cancelled"  # cancelled by a guardian on the destination


@dataclass(frozen=True)
class Row:
    """One journaled transfer."""

    transfer: Transfer
    state: TransferState
    tx_hash: str | None
    raw_tx: bytes | None
    attempts: int
    next_try: float


class BridgeStore:
    """Journal backed by one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # ---------------------------------------------------------------- validators
    def cursor(self, name: str, default: int) -> int:
        """Last block scanned by ``name`` (``default`` if never)."""
        row = self._db.execute("SELECT block FROM cursors WHERE name = ?", (name,)).fetchone()
        return default if row is None else int(row[0])

    def set_cursor(self, name: str, block: int) -> None:
        """Record that ``name`` scanned up to ``block``."""
        self._db.execute(
            "INSERT INTO cursors(name, block) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block",
            (name, block),
        )

    def add_signature(self, transfer: Transfer, signer: str, signature: bytes) -> None:
        """Record ``signer``'s signature of ``transfer`` (idempotent)."""
        tid = "0x" + transfer.transfer_id.hex()
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO transfers(id, dst_chain, body, state) VALUES(?, ?, ?, ?)",
                (tid, transfer.dst_chain_id, json.dumps(transfer.to_json()), TransferState.NEW.value),
            )
            self._db.execute(
                "INSERT OR IGNORE INTO signatures(id, signer, sig) VALUES(?, ?, ?)", (tid, signer, signature)
            )

    # ------------------------------------------------------------------- relayer
    def signatures(self, transfer_id: str) -> dict[str, bytes]:
        """Signer -> signature for a transfer."""
        rows = self._db.execute("SELECT signer, sig FROM signatures WHERE id = ?", (transfer_id,)).fetchall()
        return {signer: bytes(sig) for signer, sig in rows}

    def open_transfers(self, dst_chains: list[int]) -> list[Row]:
        """Transfers to ``dst_chains`` not yet done or cancelled, oldest nonce first."""
        marks = ",".join("?" * len(dst_chains))
        rows = self._db.execute(
            f"SELECT body, state, tx_hash, raw_tx, attempts, next_try FROM transfers "
            f"WHERE dst_chain IN ({marks}) AND state NOT IN (?, ?)",
            (*dst_chains, TransferState.DONE.value, TransferState.CANCELLED.value),
        ).fetchall()
        out = [
            Row(Transfer.from_json(json.loads(b)), TransferState(s), h, None if r is None else bytes(r), a, n)
            for b, s, h, r, a, n in rows
        ]
        return sorted(out, key=lambda row: (row.transfer.src_chain_id, row.transfer.nonce))

    def set_state(
        self,
        transfer: Transfer,
        state: TransferState,
        *,
        tx_hash: str | None = None,
        raw_tx: bytes | None = None,
        error: str | None = None,
    ) -> None:
        """Move a transfer to ``state`` (tx fields replaced only when given)."""
        tid = "0x" + transfer.transfer_id.hex()
        if tx_hash is not None:
            self._db.execute(
                "UPDATE transfers SET state = ?, tx_hash = ?, raw_tx = ? WHERE id = ?",
                (state.value, tx_hash, raw_tx, tid),
            )
        else:
            self._db.execute("UPDATE transfers SET state = ?, last_error = ? WHERE id = ?", (state.value, error, tid))

    def clear_submission(self, transfer: Transfer) -> None:
        """Forget a submission that provably did not land (so a fresh one may be made)."""
        tid = "0x" + transfer.transfer_id.hex()
        self._db.execute(
            "UPDATE transfers SET state = ?, tx_hash = NULL, raw_tx = NULL WHERE id = ?", (TransferState.NEW.value, tid)
        )

    def backoff(self, transfer: Transfer, error: str, *, base: float, cap: float) -> float:
        """Record a failed attempt; returns the delay before the next try (exponential, capped)."""
        tid = "0x" + transfer.transfer_id.hex()
        (attempts,) = self._db.execute("SELECT attempts FROM transfers WHERE id = ?", (tid,)).fetchone()
        delay = min(cap, base * 2**attempts)
        self._db.execute(
            "UPDATE transfers SET attempts = attempts + 1, next_try = ?, last_error = ? WHERE id = ?",
            (time.time() + delay, error, tid),
        )
        return delay

    def counts(self) -> dict[str, int]:
        """Number of transfers per state."""
        return dict(self._db.execute("SELECT state, COUNT(*) FROM transfers GROUP BY state").fetchall())
