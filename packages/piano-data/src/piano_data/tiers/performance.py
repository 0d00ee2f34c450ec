"""The T3 record: one performance of a piece by one performer, from any paired corpus."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from piano_data.errors import PianoDataError
from piano_data.samples import Segment

__all__ = ["Performance", "piece_key"]


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def piece_key(composer: str, title: str) -> str:
    """Canonical piece id ``"<composer>|<title>"``: ASCII, lower case, punctuation and ``_`` to spaces.

    ``("Bach", "Fugue_bwv_848")`` -> ``"bach|fugue bwv 848"``. Two corpora share a piece only when their
    normalised composer and title agree.
    """
    return f"{_norm(composer)}|{_norm(title)}"


@dataclass(frozen=True)
class Performance:
    """One performance (T3). ``piece`` groups performances of the same music; ``performer`` tells performers
    apart inside a piece (corpora without performer names use one id per performance, see each loader).

    Paths are absolute or ``None`` when the corpus has no such file. ``extra`` holds corpus-specific fields
    (split, year, composition id, ...). There are no labels in this tier.
    """

    key: str
    source: str
    piece: str
    composer: str
    title: str
    performer: str
    midi_path: Path | None = None
    audio_path: Path | None = None
    score_midi_path: Path | None = None
    annotations_path: Path | None = None
    score_annotations_path: Path | None = None
    alignment_path: Path | None = None
    match_path: Path | None = None
    split: str | None = None
    duration_s: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_segment(self) -> Segment:
        """An unlabelled :class:`~piano_data.samples.Segment` (for rendering and the shared datasets)."""
        if self.midi_path is None:
            raise PianoDataError(self.audio_path, f"{self.key}: no MIDI, cannot make a Segment")
        return Segment(
            key=self.key,
            midi_path=self.midi_path,
            piece=self.piece,
            segment="full",
            player=self.performer,
            work=self.piece,
            score_midi_path=self.score_midi_path,
            audio_path=self.audio_path,
            labels=None,
            source=self.source,
            extra=dict(self.extra),
        )
