"""Append-only input journal and periodic snapshots.

Journal segments ``journal-<first seq>.log``: one line per accepted input event,
``<seq>\\t<crc32 hex>\\t<json>\\n``, written and flushed to the OS before the event takes effect
(``fsync=True`` also forces it to disk, surviving power loss rather than only a process crash).
A torn or corrupt final line (a crash mid-write) is dropped on open: that event never took effect.
Every snapshot starts a new segment, so recovery reads only the segments after its snapshot.

Snapshots ``snapshot-<seq>.json`` hold the full engine state after event ``seq``; they are written
to a temporary file and renamed, so a snapshot is either complete or absent. The last ``keep``
snapshots are kept so recovery can start from one taken before the consumer's last acknowledged
fill (see :meth:`offchain.matcher.engine.Matcher.recover`).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SEGMENT_PREFIX = "journal-"
SNAPSHOT_PREFIX = "snapshot-"


class JournalCorruptError(RuntimeError):
    """A journal line before the tail failed its checksum or sequence check."""


def _encode(seq: int, record: dict[str, Any]) -> bytes:
    body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    return b"%d\t%08x\t%s\n" % (seq, zlib.crc32(body), body)


def _decode(line: bytes) -> tuple[int, dict[str, Any]] | None:
    """Parse one line; ``None`` if it is torn or fails its checksum."""
    if not line.endswith(b"\n"):
        return None
    parts = line[:-1].split(b"\t", 2)
    if len(parts) != 3:
        return None
    seq_s, crc_s, body = parts
    try:
        if int(crc_s, 16) != zlib.crc32(body):
            return None
        return int(seq_s), json.loads(body)
    except ValueError:
        return None


class Journal:
    """The durable input log of one matcher instance (one directory)."""

    def __init__(self, directory: str | Path, fsync: bool = False, keep_snapshots: int = 3) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.keep_snapshots = keep_snapshots
        segments = self.segments()
        self.path = segments[-1] if segments else self._segment_path(1)
        self.last_seq = self._repair_tail(self.path, int(self.path.stem.split("-")[1]) - 1)
        self._fh = open(self.path, "ab")  # noqa: SIM115 - held open for the journal's lifetime

    def _segment_path(self, first_seq: int) -> Path:
        return self.dir / f"{SEGMENT_PREFIX}{first_seq:012d}.log"

    def segments(self) -> list[Path]:
        """Journal segment files, oldest first."""
        return sorted(self.dir.glob(f"{SEGMENT_PREFIX}*.log"))

    @staticmethod
    def _repair_tail(path: Path, before_first: int) -> int:
        """Drop a torn/corrupt last line of ``path``; return the last good sequence number."""
        if not path.exists():
            return before_first
        last = before_first
        good_end = 0
        with open(path, "rb") as fh:
            for line in fh:
                decoded = _decode(line)
                if decoded is None or decoded[0] != last + 1:
                    if fh.read():
                        raise JournalCorruptError(f"{path}: bad record after seq {last} followed by more data")
                    break
                last = decoded[0]
                good_end += len(line)
        if good_end != path.stat().st_size:
            with open(path, "r+b") as fh:
                fh.truncate(good_end)
        return last

    def append(self, record: dict[str, Any]) -> int:
        """Durably append ``record`` (flushed; fsynced if configured); returns its sequence number."""
        seq = self.last_seq + 1
        self._fh.write(_encode(seq, record))
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.last_seq = seq
        return seq

    def rotate(self) -> None:
        """Start a new segment at the next sequence number."""
        self._fh.close()
        self.path = self._segment_path(self.last_seq + 1)
        self._fh = open(self.path, "ab")  # noqa: SIM115 - held open for the journal's lifetime

    def records(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, record)`` for every record with ``seq > after``, in order, reading only needed segments."""
        segments = self.segments()
        firsts = [int(p.stem.split("-")[1]) for p in segments]
        expected = after + 1
        for index, path in enumerate(segments):
            if index + 1 < len(segments) and firsts[index + 1] <= after + 1:
                continue  # every record of this segment is at or before ``after``
            with open(path, "rb") as fh:
                for line in fh:
                    if int(line.split(b"\t", 1)[0]) <= after:
                        continue
                    decoded = _decode(line)
                    if decoded is None or decoded[0] != expected:
                        raise JournalCorruptError(f"{path}: corrupt or out-of-order record, expected seq {expected}")
                    expected += 1
                    yield decoded

    def write_snapshot(self, seq: int, state: dict[str, Any]) -> Path:
        """Atomically write the state after event ``seq``, prune old snapshots, start a new segment."""
        path = self.dir / f"{SNAPSHOT_PREFIX}{seq:012d}.json"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            json.dump(state, fh, separators=(",", ":"))
            fh.flush()
            if self.fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        for old in self.snapshots()[: -self.keep_snapshots]:
            old.unlink()
        if seq == self.last_seq:
            self.rotate()
        return path

    def snapshots(self) -> list[Path]:
        """Snapshot files, oldest first."""
        return sorted(self.dir.glob(f"{SNAPSHOT_PREFIX}*.json"))

    @staticmethod
    def load_snapshot(path: Path) -> dict[str, Any]:
        """Read one snapshot."""
        with open(path) as fh:
            return json.load(fh)

    def close(self) -> None:
        """Close the file handle."""
        self._fh.close()
