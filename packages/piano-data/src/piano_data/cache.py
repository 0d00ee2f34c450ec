"""The embedding cache: features computed once, keyed by what produced them, read back memory-mapped.

Layout under ``root``::

    shards/<d[:2]>/<d>.npy     the array (numpy .npy, read with mmap_mode="r")
    shards/<d[:2]>/<d>.json    its key (written first; lets the index be rebuilt from the files alone)
    index.sqlite               one row per entry: key fields, shape, dtype, bytes (WAL mode, many processes)

``d`` is :meth:`CacheKey.digest`. Writes go to a temporary file in the shard folder and are renamed into place
(:mod:`piano_data.atomic`), so a reader sees a whole entry or none, and a process killed mid-write leaves
only a ``.tmp`` file that :meth:`EmbeddingCache.prune` removes. An entry exists when its ``.npy`` exists; the
index serves size reports, listing and pruning. Instances are picklable and open their own SQLite connection
per process, so they work in DataLoader workers and multiprocessing pools.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from piano_data.atomic import atomic_path, write_bytes_atomic
from piano_data.audio_io import content_hash

__all__ = ["CacheKey", "EmbeddingCache", "PruneResult"]

log = logging.getLogger(__name__)
_SCHEMA = """CREATE TABLE IF NOT EXISTS entries (
    digest TEXT PRIMARY KEY, content_hash TEXT, encoder_id TEXT, encoder_revision TEXT, layer_spec TEXT,
    augmentation_id TEXT, shape TEXT, dtype TEXT, nbytes INTEGER, created REAL)"""
_STALE_TMP_S = 3600.0


@dataclass(frozen=True)
class CacheKey:
    """What an embedding depends on: the input's content hash, the encoder (id and revision), the layers taken
    and the augmentation applied (``"none"`` for clean input; see
    :func:`piano_data.augment.augmentation_id`)."""

    content_hash: str
    encoder_id: str
    encoder_revision: str = "0"
    layer_spec: str = "last"
    augmentation_id: str = "none"

    def digest(self) -> str:
        """32 hex characters of sha256 over the fields (stable across processes and Python versions)."""
        return content_hash(json.dumps(asdict(self), sort_keys=True).encode())

    @classmethod
    def for_file(cls, path: str | PathLike[str], encoder_id: str, **fields: str) -> CacheKey:
        """Key for a file's bytes (MIDI or audio) and an encoder."""
        return cls(content_hash(path), encoder_id, **fields)


@dataclass(frozen=True)
class PruneResult:
    removed: int
    freed_bytes: int
    remaining_bytes: int
    stale_tmp_removed: int


class EmbeddingCache:
    """Sharded, memory-mapped, atomically written array store. See the module docstring for the layout."""

    def __init__(self, root: str | PathLike[str], *, touch_on_read: bool = True) -> None:
        self.root = Path(root)
        self.touch_on_read = touch_on_read
        (self.root / "shards").mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    # -- index ---------------------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # a connection never crosses a fork
            conn = sqlite3.connect(self.root / "index.sqlite", timeout=120.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _index(self, key: CacheKey, arr: np.ndarray, nbytes: int) -> None:
        row = (
            key.digest(),
            *asdict(key).values(),
            json.dumps(list(arr.shape)),
            arr.dtype.str,
            nbytes,
            time.time(),
        )
        self._db().execute("INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?,?)", row)

    def __getstate__(self) -> dict[str, object]:
        return {"root": self.root, "touch_on_read": self.touch_on_read, "_conn": None, "_pid": -1}

    # -- entries -------------------------------------------------------------------------------------------
    def path_for(self, key: CacheKey) -> Path:
        d = key.digest()
        return self.root / "shards" / d[:2] / f"{d}.npy"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, CacheKey) and self.path_for(key).is_file()

    def get(self, key: CacheKey) -> np.ndarray | None:
        """The stored array, memory-mapped read-only, or ``None``. An unreadable entry is removed and
        missed."""
        path = self.path_for(key)
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            return None
        except (ValueError, OSError, EOFError) as exc:
            log.warning("%s: unreadable cache entry removed (%s)", path, exc)
            self._remove(path)
            return None
        if self.touch_on_read:
            with contextlib.suppress(OSError):  # the file's mtime is its last use, for LRU pruning
                os.utime(path)
        return arr

    def put(self, key: CacheKey, array: np.ndarray) -> Path:
        """Store ``array`` under ``key`` atomically (last writer wins; equal keys mean equal content)."""
        arr = np.ascontiguousarray(array)
        if arr.dtype == object:
            raise TypeError("EmbeddingCache stores numeric arrays only")
        path = self.path_for(key)
        write_bytes_atomic(path.with_suffix(".json"), json.dumps(asdict(key)).encode(), fsync=True)
        with atomic_path(path, fsync=True) as tmp, tmp.open("wb") as f:  # a handle: np.save would append .npy
            np.save(f, arr, allow_pickle=False)
        self._index(key, arr, path.stat().st_size)
        return path

    def _remove(self, npy: Path) -> int:
        size = 0
        for p in (npy, npy.with_suffix(".json")):
            try:
                size += p.stat().st_size
                p.unlink()
            except FileNotFoundError:
                pass
        self._db().execute("DELETE FROM entries WHERE digest = ?", (npy.stem,))
        return size

    def delete(self, key: CacheKey) -> bool:
        """Remove one entry; ``True`` if it was there."""
        existed = key in self
        self._remove(self.path_for(key))
        return existed

    def __len__(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def keys(self) -> list[CacheKey]:
        """Every indexed key."""
        rows = self._db().execute(
            "SELECT content_hash, encoder_id, encoder_revision, layer_spec, augmentation_id FROM entries"
        )
        return [CacheKey(*r) for r in rows]

    # -- maintenance ---------------------------------------------------------------------------------------
    def rebuild_index(self) -> int:
        """Re-index from the files (entries whose process died between rename and indexing); drop rows whose
        file is gone. Returns the number of rows added."""
        db, added = self._db(), 0
        known = {r[0] for r in db.execute("SELECT digest FROM entries")}
        on_disk = {p.stem: p for p in (self.root / "shards").glob("*/*.npy")}
        for digest in known - on_disk.keys():
            db.execute("DELETE FROM entries WHERE digest = ?", (digest,))
        for digest in on_disk.keys() - known:
            npy = on_disk[digest]
            try:
                key = CacheKey(**json.loads(npy.with_suffix(".json").read_text()))
                arr = np.load(npy, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError, TypeError) as exc:
                log.warning("%s: unreadable cache entry removed (%s)", npy, exc)
                self._remove(npy)
                continue
            self._index(key, arr, npy.stat().st_size)
            added += 1
        return added

    def size_report(self) -> dict[str, object]:
        """Entries and bytes in total and per (encoder id, revision, layer spec); leftover temporary files."""
        rows = (
            self._db()
            .execute(
                "SELECT encoder_id, encoder_revision, layer_spec, COUNT(*), SUM(nbytes) FROM entries "
                "GROUP BY encoder_id, encoder_revision, layer_spec"
            )
            .fetchall()
        )
        by = {f"{e}@{r}/{layer}": {"entries": int(n), "bytes": int(b or 0)} for e, r, layer, n, b in rows}
        tmp = list((self.root / "shards").glob("*/.*.tmp"))
        return {
            "root": str(self.root),
            "entries": sum(v["entries"] for v in by.values()),
            "bytes": sum(v["bytes"] for v in by.values()),
            "by_encoder": by,
            "tmp_files": len(tmp),
        }

    def prune(self, max_bytes: int, *, stale_tmp_s: float = _STALE_TMP_S) -> PruneResult:
        """Remove least recently used entries until at most ``max_bytes`` remain, and temporary files older
        than ``stale_tmp_s`` (left by killed writers)."""
        now, stale = time.time(), 0
        for tmp in (self.root / "shards").glob("*/.*.tmp"):
            try:
                if now - tmp.stat().st_mtime >= stale_tmp_s:
                    tmp.unlink()
                    stale += 1
            except FileNotFoundError:
                pass
        self.rebuild_index()
        entries = []
        for digest, nbytes in self._db().execute("SELECT digest, nbytes FROM entries"):
            npy = self.root / "shards" / digest[:2] / f"{digest}.npy"
            try:
                entries.append((npy.stat().st_mtime, npy, int(nbytes)))
            except FileNotFoundError:
                continue
        total = sum(e[2] for e in entries)
        removed = freed = 0
        for _, npy, nbytes in sorted(entries, key=lambda e: e[0]):
            if total <= max_bytes:
                break
            self._remove(npy)
            total -= nbytes
            freed += nbytes
            removed += 1
        return PruneResult(removed, freed, total, stale)
