"""Performance-to-score alignment: our aligner, its result types and CSV writers."""

from piano_symbolic.align.aligner import AlignConfig, align_notes, default_config
from piano_symbolic.align.io import write_note_matches_csv, write_time_map_csv
from piano_symbolic.align.types import Alignment, NoteMatches, Restart, TimeMap

__all__ = [
    "AlignConfig",
    "Alignment",
    "NoteMatches",
    "Restart",
    "TimeMap",
    "align_notes",
    "default_config",
    "write_note_matches_csv",
    "write_time_map_csv",
]
