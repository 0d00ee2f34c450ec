"""T2, weakly labelled competition recordings: a validated manifest and ordinal pairs from placements.

Manifest (CSV with a header, or JSON: a list of objects) with the columns
``recording_id, competition, round, placement, piece, performer, audio_path``; ``audio_path`` is relative to
the manifest's folder (or absolute). Placements: ``1``, ``1st``, ``2nd``, ``3rd``, ... (prize ranks),
``finalist`` (a finalist without a prize), ``semifinalist``/``semifinal``,
``quarterfinalist``/``quarterfinal``, ``eliminated``. Anything else is an error naming the row. Within one
(competition, round), a better placement beats a worse one; equal placements give no pair.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from os import PathLike
from pathlib import Path
from typing import Literal

from piano_data.errors import PianoDataError
from piano_data.tiers._manifest import SkipCounter, read_rows, require_columns

__all__ = [
    "COMPETITION_COLUMNS",
    "CompetitionRecording",
    "OrdinalPair",
    "load_competition_manifest",
    "ordinal_pairs",
    "placement_rank",
]

COMPETITION_COLUMNS: tuple[str, ...] = (
    "recording_id",
    "competition",
    "round",
    "placement",
    "piece",
    "performer",
    "audio_path",
)
_NAMED = {
    "finalist": 100,
    "final": 100,
    "semifinalist": 200,
    "semifinal": 200,
    "semi-finalist": 200,
    "quarterfinalist": 300,
    "quarterfinal": 300,
    "quarter-finalist": 300,
    "eliminated": 1000,
}
_PRIZE = re.compile(r"^(\d+)(?:st|nd|rd|th)?(?: prize| place)?$")


def placement_rank(placement: str) -> int:
    """Lower is better: prize ``k`` -> ``k``; finalist 100; semifinalist 200; quarterfinalist 300; eliminated
    1000.

    Raises ``ValueError`` for anything else.
    """
    text = placement.strip().lower()
    m = _PRIZE.match(text)
    if m and int(m.group(1)) >= 1:
        return int(m.group(1))
    if text in _NAMED:
        return _NAMED[text]
    raise ValueError(
        f"unknown placement {placement!r} (use 1, 1st, 2nd, ..., finalist, semifinalist, quarterfinalist or eliminated)"
    )


@dataclass(frozen=True)
class CompetitionRecording:
    """One competition recording with its placement (``rank``: lower is better)."""

    recording_id: str
    competition: str
    round: str
    placement: str
    rank: int
    piece: str
    performer: str
    audio_path: Path

    @property
    def key(self) -> str:
        return f"{self.competition}:{self.recording_id}"


@dataclass(frozen=True)
class OrdinalPair:
    """``better`` placed above ``worse`` in the same competition and round."""

    better: CompetitionRecording
    worse: CompetitionRecording

    @property
    def same_piece(self) -> bool:
        return self.better.piece == self.worse.piece


def load_competition_manifest(
    path: str | PathLike[str], *, require_audio: bool = True, strict: bool = False
) -> list[CompetitionRecording]:
    """Read and validate a competition manifest.

    Missing columns, an unknown placement, an empty required field or a duplicate recording id raise
    :class:`PianoDataError`. A missing audio file is a logged, counted skip (an error with ``strict=True``;
    not checked with ``require_audio=False``).
    """
    manifest = Path(path)
    rows = read_rows(manifest)
    require_columns(manifest, rows, COMPETITION_COLUMNS)
    skips = SkipCounter(f"competition manifest {manifest}", strict)
    out, seen = [], set()
    for i, row in enumerate(rows, start=2 if manifest.suffix.lower() == ".csv" else 0):
        where = f"{manifest} (row {i})"
        empty = [c for c in COMPETITION_COLUMNS if c != "round" and not row.get(c, "").strip()]
        if empty:
            raise PianoDataError(where, f"empty field(s) {', '.join(empty)}")
        try:
            rank = placement_rank(row["placement"])
        except ValueError as exc:
            raise PianoDataError(where, str(exc)) from None
        key = (row["competition"], row["recording_id"])
        if key in seen:
            raise PianoDataError(where, f"duplicate recording_id {row['recording_id']!r} in {row['competition']!r}")
        seen.add(key)
        audio = Path(row["audio_path"])
        audio = audio if audio.is_absolute() else manifest.parent / audio
        if require_audio and not audio.is_file():
            skips.skip(audio, "audio file named in the manifest not found")
            continue
        out.append(
            CompetitionRecording(
                row["recording_id"],
                row["competition"],
                row.get("round", ""),
                row["placement"],
                rank,
                row["piece"],
                row["performer"],
                audio,
            )
        )
    skips.report()
    return out


def ordinal_pairs(
    recordings: list[CompetitionRecording], *, same_piece: Literal["prefer", "require", "ignore"] = "prefer"
) -> list[OrdinalPair]:
    """Pairs (better, worse) within each (competition, round).

    ``"require"`` keeps only same-piece pairs; ``"ignore"`` keeps every pair; ``"prefer"`` keeps a recording's
    same-piece pairs where it has any and its cross-piece pairs only where it has none ("same piece where
    possible").
    """
    groups: dict[tuple[str, str], list[CompetitionRecording]] = defaultdict(list)
    for r in recordings:
        groups[(r.competition, r.round)].append(r)
    out: list[OrdinalPair] = []
    for members in groups.values():
        pairs = [
            OrdinalPair(a, b) if a.rank < b.rank else OrdinalPair(b, a)
            for a, b in combinations(members, 2)
            if a.rank != b.rank and a.performer != b.performer
        ]
        if same_piece == "require":
            pairs = [p for p in pairs if p.same_piece]
        elif same_piece == "prefer":
            has_same = {r.key for p in pairs if p.same_piece for r in (p.better, p.worse)}
            pairs = [p for p in pairs if p.same_piece or p.better.key not in has_same or p.worse.key not in has_same]
        out.extend(pairs)
    return out
