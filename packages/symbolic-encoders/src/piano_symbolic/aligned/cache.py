"""Content-hashed cache of aligned performances: ``<cache_root>/aligned/<d[:2]>/<d>.npz`` + ``<d>.json``.

The digest ``d`` covers both note arrays, the score's bar and beat grid, the config, :data:`FEATURE_VERSION` and
the aligner's source code, so a changed aligner or feature definition never reads a stale entry. Arrays are
stored without pickle (``allow_pickle=False``), metadata as JSON; both are written to temporary names and renamed
into place, the JSON last (an entry exists when its JSON exists). An unreadable entry counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.atomic import atomic_path, write_text_atomic
from piano_data.midi import NoteArray
from piano_data.paths import cache_root
from piano_data.score import ScoreData

import piano_symbolic.align as align_pkg
from piano_symbolic.align import types as align_types
from piano_symbolic.align.types import Alignment, NoteMatches, TimeMap
from piano_symbolic.aligned.types import (
    FEATURE_VERSION,
    AlignedConfig,
    AlignedPerformance,
    PerformedNotes,
    ScoreNotes,
)

__all__ = ["aligned_digest", "default_cache_dir", "load_aligned", "save_aligned"]

_ALIGNER_HASH: str | None = None


def default_cache_dir() -> Path:
    return cache_root() / "aligned"


def _aligner_source_hash() -> str:
    global _ALIGNER_HASH
    if _ALIGNER_HASH is None:
        h = hashlib.sha256()
        folder = Path(align_pkg.__file__).parent
        for f in sorted(folder.glob("*.py")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
        _ALIGNER_HASH = h.hexdigest()[:16]
    return _ALIGNER_HASH


def _update_notes(h: Any, notes: NoteArray) -> None:
    for arr in (notes.onset, notes.offset, notes.pitch, notes.velocity, notes.pedal):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())


def aligned_digest(performance: NoteArray, score: ScoreData, cfg: AlignedConfig) -> str:
    """32 hex characters identifying what :func:`align_performance` computes for these inputs."""
    h = hashlib.sha256()
    _update_notes(h, performance)
    _update_notes(h, score.notes)
    for arr in (score.bar_times, score.beat_times):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    meta = {
        "bars": list(score.bar_numbers),
        "cfg": asdict(cfg),
        "version": FEATURE_VERSION,
        "aligner": _aligner_source_hash(),
    }
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def _paths(directory: Path, digest: str) -> tuple[Path, Path]:
    folder = directory / digest[:2]
    return folder / f"{digest}.npz", folder / f"{digest}.json"


def save_aligned(aligned: AlignedPerformance, digest: str, directory: Path | None = None) -> Path:
    """Write one entry; returns the JSON path."""
    directory = directory or default_cache_dir()
    npz_path, json_path = _paths(directory, digest)
    al = aligned.alignment
    arrays: dict[str, np.ndarray] = {f"s_{f.name}": getattr(aligned.score_notes, f.name) for f in fields(ScoreNotes)}
    arrays |= {f"p_{f.name}": getattr(aligned.performed_notes, f.name) for f in fields(PerformedNotes)}
    arrays |= {"tm_score": al.time_map.score_time, "tm_perf": al.time_map.performance_time}
    if al.matches is not None:
        arrays |= {"m_score": al.matches.score_index, "m_perf": al.matches.performance_index}
        sub = getattr(al.matches, "substituted", None)
        if sub is not None:
            arrays["m_sub"] = np.asarray(sub, dtype=bool)
    meta = {
        "confidence": al.confidence,
        "method": al.method,
        "alignment_flags": list(al.flags),
        "bar_numbers": list(aligned.bar_numbers),
        "mean_tempo": aligned.mean_tempo,
        "restarts": [list(r) for r in aligned.restarts],
        "played_span": None if aligned.played_span is None else list(aligned.played_span),
        "flags": list(aligned.flags),
        "version": aligned.version,
    }
    with atomic_path(npz_path, suffix=".npz") as tmp:  # np.savez appends .npz to any other name
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
    write_text_atomic(json_path, json.dumps(meta))
    return json_path


def _alignment(data: Any, meta: dict[str, Any]) -> Alignment:
    tmap = TimeMap(data["tm_score"], data["tm_perf"])
    matches = None
    if "m_score" in data:
        kw: dict[str, Any] = {}
        if "m_sub" in data and "substituted" in {f.name for f in fields(NoteMatches)}:
            kw["substituted"] = data["m_sub"]
        matches = NoteMatches(data["m_score"], data["m_perf"], **kw)
    kw = {}
    names = {f.name for f in fields(Alignment)}
    restart_cls = getattr(align_types, "Restart", None)
    if "restarts" in names and restart_cls is not None:
        kw["restarts"] = tuple(restart_cls(float(p), float(s)) for p, s in meta["restarts"])
    if "played_span" in names and meta["played_span"] is not None:
        kw["played_span"] = tuple(meta["played_span"])
    return Alignment(
        tmap, matches, float(meta["confidence"]), str(meta["method"]), tuple(meta["alignment_flags"]), **kw
    )


def load_aligned(
    digest: str,
    directory: Path | None = None,
    *,
    score_source: str | None = None,
    performance_source: str | None = None,
) -> AlignedPerformance | None:
    """The cached entry, or None when absent or unreadable."""
    directory = directory or default_cache_dir()
    npz_path, json_path = _paths(directory, digest)
    if not json_path.is_file():
        return None
    try:
        meta = json.loads(json_path.read_text())
        if meta.get("version") != FEATURE_VERSION:
            return None
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        score_notes = ScoreNotes(**{f.name: arrays[f"s_{f.name}"] for f in fields(ScoreNotes)})
        performed = PerformedNotes(**{f.name: arrays[f"p_{f.name}"] for f in fields(PerformedNotes)})
        return AlignedPerformance(
            alignment=_alignment(arrays, meta),
            score_notes=score_notes,
            performed_notes=performed,
            bar_numbers=tuple(meta["bar_numbers"]),
            mean_tempo=float(meta["mean_tempo"]),
            restarts=tuple((float(p), float(s)) for p, s in meta["restarts"]),
            played_span=None if meta["played_span"] is None else (meta["played_span"][0], meta["played_span"][1]),
            flags=tuple(meta["flags"]),
            score_source=score_source,
            performance_source=performance_source,
        )
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
