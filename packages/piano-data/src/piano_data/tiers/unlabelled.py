"""T4, unlabelled at scale: MIDI folders (GiantMIDI-style) and audio folders cut into 10-30 s clips.

:func:`segment_unlabelled` scans folders and cuts every file into clips of ``clip_s`` seconds every ``hop_s``
seconds (overlap ``clip_s - hop_s``); a last, shorter clip is kept when it lasts at least ``min_s``. Files
shorter than ``min_s``, unreadable files, clips without notes (MIDI) and silent clips (audio) are logged,
counted skips. The result is a manifest of :class:`Clip` records (JSON lines), which carry no label fields at
all; ``exclude_hashes`` drops files whose bytes match labelled or evaluation data (e.g. PercePiano's MIDI), so
that nothing labelled leaks into self-supervised pre-training.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from piano_data.atomic import atomic_path
from piano_data.audio_io import AUDIO_EXTENSIONS, audio_duration, content_hash, load_audio
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from piano_data.progress import progress_disabled
from piano_data.tiers._manifest import SkipCounter
from piano_data.tiers.folder import MIDI_EXTENSIONS

__all__ = [
    "Clip",
    "ClipConfig",
    "read_clip_manifest",
    "scan_files",
    "segment_unlabelled",
    "write_clip_manifest",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipConfig:
    """Clip length, hop and the shortest clip kept (seconds); silence threshold for audio clips."""

    clip_s: float = 20.0
    hop_s: float = 15.0
    min_s: float = 10.0
    max_s: float = 30.0
    silence_dbfs: float = -60.0
    min_notes: int = 4

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.clip_s <= self.max_s:
            raise ValueError(f"need 0 < min_s <= clip_s <= max_s, got {self.min_s}, {self.clip_s}, {self.max_s}")
        if not self.hop_s > 0:
            raise ValueError("hop_s must be positive")


@dataclass(frozen=True)
class Clip:
    """A span ``[start_s, end_s)`` of one unlabelled file. There is deliberately no label field."""

    key: str
    path: Path
    kind: Literal["midi", "audio"]
    start_s: float
    end_s: float
    source: str
    content_hash: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def scan_files(roots: Iterable[str | PathLike[str]]) -> list[Path]:
    """Every MIDI and audio file under ``roots`` (sorted, hidden files skipped)."""
    out = []
    for root in roots:
        base = Path(root)
        if not base.is_dir():
            raise PianoDataError(base, "folder not found")
        out += [
            f
            for f in base.rglob("*")
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in MIDI_EXTENSIONS + AUDIO_EXTENSIONS
        ]
    return sorted(out)


def _spans(duration: float, cfg: ClipConfig) -> list[tuple[float, float]]:
    spans, start = [], 0.0
    while start + cfg.min_s <= duration + 1e-9:
        spans.append((start, min(start + cfg.clip_s, duration)))
        if start + cfg.clip_s >= duration:
            break
        start += cfg.hop_s
    return spans


def segment_unlabelled(
    roots: Iterable[str | PathLike[str]],
    config: ClipConfig | None = None,
    *,
    source: str = "unlabelled",
    exclude_hashes: Iterable[str] = (),
    strict: bool = False,
    progress: bool = True,
) -> list[Clip]:
    """Cut every MIDI/audio file under ``roots`` into clips (see the module docstring)."""
    cfg = config or ClipConfig()
    excluded = set(exclude_hashes)
    skips = SkipCounter(f"T4 {source}", strict)
    clips: list[Clip] = []
    for path in tqdm(scan_files(roots), desc="segment", disable=progress_disabled(progress)):
        digest = content_hash(path)
        if digest in excluded:
            skips.skip(path, "file matches labelled/evaluation data (exclude_hashes)")
            continue
        try:
            if path.suffix.lower() in MIDI_EXTENSIONS:
                notes = read_notes(path)
                spans = _spans(notes.end_time, cfg)
                keep = [
                    s for s in spans if np.count_nonzero((notes.onset >= s[0]) & (notes.onset < s[1])) >= cfg.min_notes
                ]
                kind: Literal["midi", "audio"] = "midi"
            else:
                spans = _spans(audio_duration(path), cfg)
                audio = load_audio(path) if spans else np.zeros(0, np.float32)
                floor = 10 ** (cfg.silence_dbfs / 20)
                keep = [s for s in spans if _rms(audio[int(s[0] * SAMPLE_RATE) : int(s[1] * SAMPLE_RATE)]) > floor]
                kind = "audio"
        except PianoDataError as exc:
            skips.skip(path, f"unreadable ({exc.problem})")
            continue
        if not spans:
            skips.skip(path, f"shorter than min_s={cfg.min_s} s")
            continue
        if len(keep) < len(spans):
            skips.counts["clip without notes or silent"] += len(spans) - len(keep)
            skips.examples.setdefault("clip without notes or silent", str(path))
        for start, end in keep:
            clips.append(
                Clip(
                    f"{source}:{path.stem}@{start:.1f}",
                    path,
                    kind,
                    round(start, 3),
                    round(end, 3),
                    source,
                    digest,
                )
            )
    skips.report()
    return clips


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def write_clip_manifest(clips: Sequence[Clip], path: str | PathLike[str]) -> Path:
    """Write clips as JSON lines, atomically."""
    out = Path(path)
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as f:
        for c in clips:
            f.write(json.dumps({**asdict(c), "path": str(c.path)}) + "\n")
    return out


def read_clip_manifest(path: str | PathLike[str]) -> list[Clip]:
    """Read a manifest written by :func:`write_clip_manifest`; a label-like field is an error."""
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "clip manifest not found")
    clips = []
    for i, line in enumerate(p.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            unexpected = sorted(set(rec) - set(Clip.__dataclass_fields__))
            if unexpected:
                raise PianoDataError(f"{p} (line {i})", f"unexpected field(s) {unexpected}; T4 clips carry no labels")
            clips.append(Clip(**{**rec, "path": Path(rec["path"])}))
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise PianoDataError(f"{p} (line {i})", f"not a clip record ({exc})") from None
    return clips
