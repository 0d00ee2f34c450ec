"""GiantMIDI-Piano evaluation triplets (T3): for each piece, a MAESTRO performance MIDI, a GiantMIDI
transcription of another recording and the score MIDI.

Layout (the GiantMIDI-Piano repository's ``midis_for_evaluation``)::

    <root>/groundtruth_maestro_giantmidi-piano.csv    TSV: Name, GroundTruth, Maestro, GiantMIDI-Piano
    <root>/{ground_truth,maestro,giantmidi-piano}/<file>.mid

Each row gives two performances of one piece by different performers (``maestro:<stem>``,
``giantmidi:<stem>``), both linked to the score MIDI. Missing files are logged, counted skips.
"""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path

from piano_data.errors import PianoDataError
from piano_data.tiers._manifest import SkipCounter, require_columns
from piano_data.tiers.performance import Performance, piece_key

__all__ = ["load_giantmidi_eval"]

_TRIPLETS = "groundtruth_maestro_giantmidi-piano.csv"
_COLUMNS = ("Name", "GroundTruth", "Maestro", "GiantMIDI-Piano")


def load_giantmidi_eval(root: str | PathLike[str], *, strict: bool = False) -> list[Performance]:
    """Performances of the evaluation triplets under ``root`` (``midis_for_evaluation``), two per piece."""
    base = Path(root)
    table = base / _TRIPLETS
    if not table.is_file():
        raise PianoDataError(table, "GiantMIDI evaluation table not found (is this midis_for_evaluation/?)")
    rows = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(table.open(), delimiter="\t")]
    require_columns(table, rows, _COLUMNS)
    skips = SkipCounter(f"GiantMIDI {table}", strict)
    out: list[Performance] = []
    for row in rows:
        score = base / "ground_truth" / row["GroundTruth"]
        composer, _, title = row["Name"].partition(",")
        for source, folder, column in (
            ("maestro", "maestro", "Maestro"),
            ("giantmidi", "giantmidi-piano", "GiantMIDI-Piano"),
        ):
            midi = base / folder / row[column]
            if not row[column] or not midi.is_file():
                skips.skip(midi, "MIDI named in the evaluation table not found")
                continue
            out.append(
                Performance(
                    key=f"{source}:{midi.stem}",
                    source=source,
                    piece=piece_key(composer, title),
                    composer=composer.strip(),
                    title=title.strip(),
                    performer=f"{source}:{midi.stem}",
                    midi_path=midi,
                    score_midi_path=score if score.is_file() else None,
                )
            )
    skips.report()
    return out
