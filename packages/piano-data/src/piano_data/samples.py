"""Sample and batch types shared by every tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from piano_data.contracts import N_DIMS


@dataclass(frozen=True)
class Segment:
    """One labelled (T1) performance segment.

    ``piece`` is the piece group (``Schubert_D960_mv3_8bars``), ``group`` the (piece, segment) group that must
    never be split across folds, ``work`` the coarse work (``Schubert_D960_mv3``), ``player`` the performer
    (``Score``/``Score2`` for the deadpan renditions). ``labels`` holds 19 values in [0, 1] (mean rating / 7) or
    is ``None`` for unlabelled data; ``label_std`` holds the raters' std per dimension where known.
    """

    key: str
    midi_path: Path
    piece: str
    segment: str
    player: str
    work: str
    score_midi_path: Path | None = None
    audio_path: Path | None = None
    labels: np.ndarray | None = None
    label_std: np.ndarray | None = None
    n_bars: int | None = None
    source: str = "percepiano"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.labels is not None and np.asarray(self.labels).shape != (N_DIMS,):
            raise ValueError(f"{self.key}: labels must have {N_DIMS} values, got {np.shape(self.labels)}")

    @property
    def group(self) -> str:
        """The (piece, segment) group: every performance of the same passage."""
        return f"{self.piece}_{self.segment}"

    @property
    def is_deadpan(self) -> bool:
        return self.player in ("Score", "Score2")


def stack_labels(segments: list[Segment] | tuple[Segment, ...]) -> np.ndarray:
    """``[N, 19]`` float array of the segments' labels; raises if any is unlabelled."""
    missing = [s.key for s in segments if s.labels is None]
    if missing:
        raise ValueError(f"{len(missing)} segments have no labels, e.g. {missing[0]}")
    return np.stack([np.asarray(s.labels, dtype=np.float64) for s in segments])
