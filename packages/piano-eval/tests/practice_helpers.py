"""Shared pieces of the practice-report tests."""

from __future__ import annotations

import numpy as np
from piano_data.midi import NoteArray
from piano_eval.practice.report import WindowScores


class FlatScorer:
    """A scorer that gives every window the same profile (the rules under test do not depend on it)."""

    name = "flat"

    def score_windows(self, passages: list[tuple[NoteArray, NoteArray | None]]) -> WindowScores:
        n = len(passages)
        return WindowScores(np.full((n, 19), 0.5), None, np.zeros(n))
