"""The self-supervised pretraining corpus: MIDI performances cut into windows, with same-piece groups.

Sources under a data root (``/work/shared/data`` layout; any subset may be missing):

- ``percepiano``: every segment MIDI is one window; its group is the (piece, segment) passage, so the ~25
  performances of one passage are exact cross-performer positives.
- ``asap``: performance MIDIs (:func:`piano_data.tiers.load_asap`) cut into ``window_s`` windows; the group is
  the piece (:func:`piano_data.tiers.piece_key`) plus the window's relative position in the performance
  (``round(position * n)`` bins of about ``window_s``), an approximate alignment of different performers'
  renditions of the same passage.
- ``giantmidi``: the GiantMIDI transcriptions and MAESTRO performances of the same 52 pieces
  (``midis_for_evaluation``, :func:`piano_data.tiers.load_giantmidi_eval`), grouped like ASAP by piece key
  and relative position (a piece in both corpora shares its groups).
- ``maestro``: the 10 MAESTRO performances, no group (piece unknown).

Windows with fewer than ``min_notes`` notes are skipped; unreadable files are skipped with a warning. Same-piece
batches come from :class:`piano_data.tiers.SamePieceBatchSampler`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_data.percepiano import parse_key
from piano_data.samples import Segment
from piano_data.tiers.asap import load_asap
from piano_data.tiers.giantmidi import load_giantmidi_eval

__all__ = [
    "CorpusSpec",
    "CorpusWindow",
    "build_corpus",
    "load_window",
    "slice_notes",
]

log = logging.getLogger(__name__)
SOURCES = ("percepiano", "asap", "giantmidi", "maestro")


@dataclass(frozen=True)
class CorpusSpec:
    """Which files go in and how they are cut. ``max_files`` caps the files per long-form source."""

    sources: tuple[str, ...] = SOURCES
    window_s: float = 15.0
    min_notes: int = 16
    max_files: int | None = None
    max_windows_per_file: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class CorpusWindow:
    """``[start, end)`` seconds of ``path``; ``group`` names the same-piece passage (``None`` when
    unknown).
    """

    path: Path
    start: float
    end: float | None
    group: str | None
    source: str


@lru_cache(maxsize=256)
def _notes(path: Path) -> NoteArray:
    return read_notes(path)


def slice_notes(notes: NoteArray, start: float, end: float | None) -> NoteArray:
    """Notes with onsets in ``[start, end)``, shifted to start at 0; pedal intervals clipped and shifted."""
    stop = np.inf if end is None else end
    keep = (notes.onset >= start) & (notes.onset < stop)
    ped = notes.pedal
    if len(ped):
        ped = ped[(ped[:, 1] > start) & (ped[:, 0] < stop)]
        ped = np.clip(ped, start, stop if end is not None else None) - start
    return NoteArray(
        notes.onset[keep] - start,
        notes.offset[keep] - start,
        notes.pitch[keep],
        notes.velocity[keep],
        ped.reshape(-1, 2),
        notes.source,
    )


def load_window(window: CorpusWindow) -> NoteArray:
    """The notes of one window (files are cached)."""
    return slice_notes(_notes(window.path), window.start, window.end)


def _percepiano_group(path: Path) -> str:
    try:
        key = parse_key(path.stem)
    except ValueError:
        return path.stem
    return f"{key['piece']}_{key['segment']}"  # as Segment.group


def _long_form(root: Path, spec: CorpusSpec) -> list[tuple[Path, str | None, str]]:
    files: list[tuple[Path, str | None, str]] = []
    if "asap" in spec.sources and (root / "asap" / "metadata.csv").is_file():
        asap = load_asap(root / "asap")
        files += _cap([(p.midi_path, p.piece, "asap") for p in asap if p.midi_path is not None], spec)
    evaluation = root / "giantmidi_subset" / "midis_for_evaluation"
    if "giantmidi" in spec.sources and (evaluation / "groundtruth_maestro_giantmidi-piano.csv").is_file():
        gm = load_giantmidi_eval(evaluation)
        files += _cap([(p.midi_path, p.piece, "giantmidi") for p in gm if p.midi_path is not None], spec)
    if "maestro" in spec.sources and (root / "maestro_subset").is_dir():
        files += _cap([(p, None, "maestro") for p in sorted((root / "maestro_subset").glob("*.mid"))], spec)
    return files


def _cap(files: list[tuple[Path, str | None, str]], spec: CorpusSpec) -> list[tuple[Path, str | None, str]]:
    if spec.max_files is None or len(files) <= spec.max_files:
        return files
    rng = random.Random(spec.seed)
    return sorted(rng.sample(files, spec.max_files))


def build_corpus(
    data_root: Path | None, spec: CorpusSpec | None = None, segments: Sequence[Segment] = ()
) -> list[CorpusWindow]:
    """Windows of every source found under ``data_root`` plus the given (PercePiano) ``segments``.

    ``segments`` take the place of scanning ``percepiano/``; without them and with ``percepiano`` in
    ``spec.sources`` the segment MIDIs under ``data_root/percepiano/midi/all_2rounds`` are used.
    """
    spec = spec or CorpusSpec()
    windows: list[CorpusWindow] = []
    if "percepiano" in spec.sources:
        if segments:
            windows += [CorpusWindow(Path(s.midi_path), 0.0, None, s.group, "percepiano") for s in segments]
        elif data_root is not None:
            for p in sorted((Path(data_root) / "percepiano" / "midi" / "all_2rounds").glob("*.mid")):
                windows.append(CorpusWindow(p, 0.0, None, _percepiano_group(p), "percepiano"))
    if data_root is None:
        return windows
    for path, piece, source in _long_form(Path(data_root), spec):
        try:
            notes = read_notes(path)
        except PianoDataError as exc:
            log.warning("skipping %s", exc)
            continue
        end = float(notes.onset.max()) if len(notes) else 0.0
        n = max(1, int(np.ceil(end / spec.window_s)))
        starts = [k * spec.window_s for k in range(n)]
        if spec.max_windows_per_file is not None and n > spec.max_windows_per_file:
            starts = random.Random(f"{spec.seed}{path}").sample(starts, spec.max_windows_per_file)
        for s in sorted(starts):
            count = int(np.sum((notes.onset >= s) & (notes.onset < s + spec.window_s)))
            if count < spec.min_notes:
                continue
            group = None if piece is None else f"{piece}@{round(n * s / max(end, 1e-9))}"
            windows.append(CorpusWindow(path, s, s + spec.window_s, group, source))
    return windows
