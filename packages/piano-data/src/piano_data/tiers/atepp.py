"""ATEPP (T3): its metadata CSV (``artist, composer, composition_id, track, midi_path``), MIDI relative to
root.

Pieces are grouped by ``composition_id`` (``atepp:<id>``), performers are the ``artist`` names. With
``require_midi=False`` the rows load without their MIDI (``midi_path=None``), which is enough to count pieces,
performers and pairs from the metadata alone (the shared copy has no MIDI).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from piano_data.errors import PianoDataError
from piano_data.tiers._manifest import SkipCounter, read_rows, require_columns
from piano_data.tiers.performance import Performance

__all__ = ["ATEPP_COLUMNS", "load_atepp"]

ATEPP_COLUMNS: tuple[str, ...] = ("artist", "composer", "composition_id", "midi_path")


def load_atepp(
    root: str | PathLike[str],
    metadata: str | PathLike[str] | None = None,
    *,
    require_midi: bool = True,
    strict: bool = False,
) -> list[Performance]:
    """ATEPP performances; ``metadata`` defaults to the newest ``ATEPP-metadata-*.csv`` in ``root``."""
    base = Path(root)
    if metadata is None:
        found = sorted(base.glob("ATEPP-metadata-*.csv"), reverse=True)
        if not found:
            raise PianoDataError(base, "no ATEPP-metadata-*.csv in this folder")
        meta = found[0]
    else:
        meta = Path(metadata)
    rows = read_rows(meta)
    require_columns(meta, rows, ATEPP_COLUMNS)
    skips = SkipCounter(f"ATEPP {meta}", strict and require_midi)
    out: list[Performance] = []
    for row in rows:
        midi = base / row["midi_path"] if row["midi_path"] else None
        if midi is None or not midi.is_file():
            if require_midi:
                skips.skip(midi or meta, "MIDI named in the ATEPP metadata not found")
                continue
            midi = None
        comp = row["composition_id"].split(".")[0]
        out.append(
            Performance(
                key=f"atepp:{row['midi_path'].rsplit('.', 1)[0]}",
                source="atepp",
                piece=f"atepp:{comp}",
                composer=row["composer"],
                title=row.get("track", ""),
                performer=row["artist"],
                midi_path=midi,
                duration_s=float(row["track_duration"]) if row.get("track_duration") else None,
                extra={"composition_id": comp, "artist_id": row.get("artist_id", "")},
            )
        )
    skips.report()
    return out
