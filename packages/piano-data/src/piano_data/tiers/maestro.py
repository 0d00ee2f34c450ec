"""MAESTRO (T3): its metadata CSV or JSON (``canonical_composer, canonical_title, split, year, midi_filename,
audio_filename, duration``), paths relative to the root.

MAESTRO names no performers. Its performances come from a piano competition, so each performance gets its own
performer id (``maestro:<midi stem>``): two performances of one piece count as different performers. ``need``
says which modality a row must have on disk (``"midi"``, ``"audio"``, ``"any"``); rows without it are logged,
counted skips (or errors with ``strict=True``).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Literal

from piano_data.errors import PianoDataError
from piano_data.tiers._manifest import SkipCounter, optional_path, read_rows, require_columns
from piano_data.tiers.performance import Performance, piece_key

__all__ = ["MAESTRO_COLUMNS", "find_maestro_metadata", "load_maestro"]

MAESTRO_COLUMNS: tuple[str, ...] = ("canonical_composer", "canonical_title", "midi_filename")


def find_maestro_metadata(root: Path) -> Path:
    """``maestro-v*.csv`` (preferred) or ``maestro-v*.json`` in ``root``, newest version first."""
    for pattern in ("maestro-v*.csv", "maestro-v*.json", "*.csv", "*.json"):
        found = sorted(root.glob(pattern), reverse=True)
        if found:
            return found[0]
    raise PianoDataError(
        root,
        "no MAESTRO metadata (maestro-v*.csv or .json) in this folder; "
        "for a folder of MIDI without metadata use load_folder",
    )


def load_maestro(
    root: str | PathLike[str],
    metadata: str | PathLike[str] | None = None,
    *,
    need: Literal["midi", "audio", "any"] = "midi",
    strict: bool = False,
) -> list[Performance]:
    """MAESTRO performances under ``root`` described by ``metadata`` (found in ``root`` when not given)."""
    base = Path(root)
    meta = Path(metadata) if metadata is not None else find_maestro_metadata(base)
    rows = read_rows(meta)
    require_columns(meta, rows, MAESTRO_COLUMNS)
    skips = SkipCounter(f"MAESTRO {meta}", strict)
    out: list[Performance] = []
    for row in rows:
        midi = optional_path(base, row["midi_filename"])
        audio = optional_path(base, row.get("audio_filename", ""))
        if (need == "midi" and midi is None) or (need == "audio" and audio is None) or (midi is None and audio is None):
            skips.skip(
                base / (row["midi_filename"] if need != "audio" else row.get("audio_filename", "")),
                f"{need} file named in the metadata not found",
            )
            continue
        stem = Path(row["midi_filename"]).stem
        duration = row.get("duration", "")
        out.append(
            Performance(
                key=f"maestro:{row['midi_filename'].rsplit('.', 1)[0]}",
                source="maestro",
                piece=piece_key(row["canonical_composer"], row["canonical_title"]),
                composer=row["canonical_composer"],
                title=row["canonical_title"],
                performer=f"maestro:{stem}",
                midi_path=midi,
                audio_path=audio,
                split=row.get("split") or None,
                duration_s=float(duration) if duration else None,
                extra={"year": row.get("year", "")},
            )
        )
    skips.report()
    return out
