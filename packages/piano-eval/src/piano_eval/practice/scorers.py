"""Window scorers: the default numpy feature model, or any ``piano-eval train`` checkpoint."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.midi import NoteArray

from piano_eval.practice.model import FeatureModel, check_features_match
from piano_eval.practice.report import WindowScores

__all__ = ["CheckpointScorer", "FeatureModelScorer"]


class FeatureModelScorer:
    """Scores windows with a :class:`~piano_eval.practice.model.FeatureModel` (numpy only)."""

    def __init__(self, model: FeatureModel) -> None:
        check_features_match(model)
        self.model = model
        self.name = model.name

    def features(self, passages: Sequence[tuple[NoteArray, NoteArray | None]]) -> np.ndarray:
        from piano_eval.practice.features import passage_features

        return np.stack([passage_features(p, s) for p, s in passages])

    def score_windows(self, passages: Sequence[tuple[NoteArray, NoteArray | None]]) -> WindowScores:
        x = self.features(passages)
        return WindowScores(self.model.predict(x), None, self.model.outside_training(x).mean(axis=1))


class CheckpointScorer:
    """Scores windows with a checkpoint from ``piano-eval train`` (any experiment; torch ones import torch)."""

    def __init__(self, experiment: Any, manifest: dict[str, Any], directory: Path) -> None:
        self.experiment = experiment
        self.manifest = manifest
        self.name = f"{manifest.get('experiment')} checkpoint ({directory})"

    def score_windows(self, passages: Sequence[tuple[NoteArray, NoteArray | None]]) -> WindowScores:
        from piano_data.midi import write_notes
        from piano_data.samples import Segment

        from piano_eval.experiments.base import RunContext

        with tempfile.TemporaryDirectory(prefix="piano-eval-windows-") as tmp:
            work = Path(tmp)
            segments = []
            for k, (perf, score) in enumerate(passages):
                perf_path = write_notes(perf, work / f"w{k:04d}.mid")
                score_path = write_notes(score, work / f"w{k:04d}.score.mid") if score is not None else None
                segments.append(
                    Segment(
                        key=f"window-{k:04d}",
                        midi_path=perf_path,
                        piece="user",
                        segment=str(k),
                        player="user",
                        work="user",
                        score_midi_path=score_path,
                    )
                )
            pred = self.experiment.predict(segments, RunContext(workdir=work))
        outside = np.array([float((d or {}).get("out_of_range_share", np.nan)) for d in (pred.details or [])])
        if len(outside) != len(passages):
            outside = np.full(len(passages), np.nan)
        conf = None if pred.confidence is None else np.asarray(pred.confidence, dtype=np.float64)
        return WindowScores(np.asarray(pred.values, dtype=np.float64), conf, outside)
