"""A plain folder of MIDI and/or audio files as T3 performances.

Layout: ``<root>/<piece folder ...>/<performer>.<ext>``. The piece is the folder path relative to ``root``
(``piece_from="parent"``) or each file is its own piece (``"stem"``); the performer is the file stem. A MIDI
and an audio file with the same stem in the same folder make one performance.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Literal

from piano_data.audio_io import AUDIO_EXTENSIONS
from piano_data.errors import PianoDataError
from piano_data.tiers.performance import Performance, piece_key

__all__ = ["MIDI_EXTENSIONS", "load_folder"]

MIDI_EXTENSIONS: tuple[str, ...] = (".mid", ".midi")


def load_folder(
    root: str | PathLike[str], *, source: str = "folder", piece_from: Literal["parent", "stem"] = "parent"
) -> list[Performance]:
    """Performances for every MIDI/audio file under ``root`` (sorted by path)."""
    base = Path(root)
    if not base.is_dir():
        raise PianoDataError(base, "folder not found")
    groups: dict[Path, dict[str, Path]] = {}
    for f in sorted(base.rglob("*")):
        ext = f.suffix.lower()
        if f.is_file() and not f.name.startswith(".") and (ext in MIDI_EXTENSIONS or ext in AUDIO_EXTENSIONS):
            kind = "midi" if ext in MIDI_EXTENSIONS else "audio"
            groups.setdefault(f.with_suffix(""), {}).setdefault(kind, f)
    out = []
    for stem_path, files in groups.items():
        rel = stem_path.relative_to(base)
        parent = rel.parent.as_posix() if rel.parent != Path(".") else base.name
        title = parent if piece_from == "parent" else rel.as_posix()
        out.append(
            Performance(
                key=f"{source}:{rel.as_posix()}",
                source=source,
                piece=piece_key("", title),
                composer="",
                title=title,
                performer=rel.name,
                midi_path=files.get("midi"),
                audio_path=files.get("audio"),
            )
        )
    return out
