"""Performance-to-score alignment: our aligner, references, result types and CSV writers."""

from piano_symbolic.align.aligner import AlignConfig, align_notes, default_config
from piano_symbolic.align.evaluate import beat_errors, read_beat_annotations, summarize_errors
from piano_symbolic.align.io import write_note_matches_csv, write_time_map_csv
from piano_symbolic.align.reference import parangonar_align, plain_dtw_align
from piano_symbolic.align.types import Alignment, NoteMatches, TimeMap

__all__ = [
    "AlignConfig",
    "Alignment",
    "NoteMatches",
    "TimeMap",
    "align_notes",
    "beat_errors",
    "default_config",
    "parangonar_align",
    "plain_dtw_align",
    "read_beat_annotations",
    "summarize_errors",
    "write_note_matches_csv",
    "write_time_map_csv",
]
