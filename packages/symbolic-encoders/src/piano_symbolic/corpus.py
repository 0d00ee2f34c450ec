"""The self-supervised pretraining corpus: MIDI performances cut into windows, with same-piece groups.

Sources under a data root (``/work/shared/data`` layout; any subset may be missing):

- ``percepiano``: every segment MIDI is one window; its group is the (piece, segment) passage, so the ~25
  performances of one passage are exact cross-performer positives.
- ``asap``: performance MIDIs (``metadata.csv``) cut into ``window_s`` windows; the group is the piece
  (composer, title) plus the window's relative position in the performance (``round(position * n)`` bins of
  about ``window_s``), an approximate alignment of different performers' renditions of the same passage.
- ``giantmidi``: the GiantMIDI transcriptions and MAESTRO performances of the same 52 pieces
  (``midis_for_evaluation``), grouped like ASAP by piece and relative position.
- ``maestro``: the 10 MAESTRO performances, no group (piece unknown).

Windows with fewer than ``min_notes`` notes are skipped; unreadable files are skipped with a warning.
"""

from __future__ import annotations

import csv
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_data.samples import Segment

__all__ = [
    "CorpusSpec",
    "CorpusWindow",
    "build_corpus",
    "group_batches",
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
    parts = path.stem.strip().split("_")
    return "_".join(parts[:-2] + parts[-1:]) if len(parts) >= 3 else path.stem


def _long_form(root: Path, spec: CorpusSpec) -> list[tuple[Path, str | None, str]]:
    files: list[tuple[Path, str | None, str]] = []
    if "asap" in spec.sources and (root / "asap" / "metadata.csv").is_file():
        with (root / "asap" / "metadata.csv").open() as fh:
            rows = [
                (root / "asap" / r["midi_performance"], f"{r['composer']}|{r['title']}") for r in csv.DictReader(fh)
            ]
        files += _cap([(p, g, "asap") for p, g in rows if p.is_file()], spec)
    table = root / "giantmidi_subset" / "midis_for_evaluation" / "groundtruth_maestro_giantmidi-piano.csv"
    if "giantmidi" in spec.sources and table.is_file():
        base = table.parent
        with table.open() as fh:
            rows2 = list(csv.DictReader(fh, delimiter="\t"))
        gm: list[tuple[Path, str | None, str]] = []
        for r in rows2:
            for sub, col in (("giantmidi-piano", "GiantMIDI-Piano"), ("maestro", "Maestro")):
                p = base / sub / (r.get(col) or "")
                if p.is_file():
                    gm.append((p, f"giantmidi|{r['Name']}", "giantmidi"))
        files += _cap(gm, spec)
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


def group_batches(groups: Sequence[str | None], batch_size: int, seed: int = 0) -> list[list[int]]:
    """Batches of indices where known groups come in pairs (for the cross-performer contrastive loss).

    Each batch is filled with two members of as many shuffled groups as fit, then with the remaining items.
    Every index appears exactly once per epoch.
    """
    rng = random.Random(seed)
    by_group: dict[str, list[int]] = {}
    loose: list[int] = []
    for i, g in enumerate(groups):
        (by_group.setdefault(g, []) if g is not None else loose).append(i)
    pairs: list[list[int]] = []
    for members in by_group.values():
        rng.shuffle(members)
        for k in range(0, len(members) - 1, 2):
            pairs.append(members[k : k + 2])
        if len(members) % 2:
            loose.append(members[-1])
    rng.shuffle(pairs)
    rng.shuffle(loose)
    flat = [i for p in pairs for i in p] + loose
    return [flat[k : k + batch_size] for k in range(0, len(flat), batch_size)]
