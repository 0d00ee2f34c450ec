"""End-to-end audio experiments on a few rendered synthetic segments with the tiny random MuQ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tiny_presets as presets
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.datasets import LabelledCorpus
from piano_eval.errors import UsageError
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment
from piano_eval.runner import run_cv

TINY = presets.AUDIO


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> LabelledCorpus:
    segs = make_synthetic_corpus(
        SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=4),
        tmp_path_factory.mktemp("synth"),
    )
    return LabelledCorpus("synthetic-mini", segs, "test", None)


@pytest.mark.parametrize("name", ["baseline-paper", "a1", "a3"])
def test_audio_experiment_runs_a_fold(name: str, dataset: LabelledCorpus, tmp_path: Path) -> None:
    exp = build_experiment(name, {**TINY, "render_cache": str(tmp_path / "render")})
    ctx = RunContext(workdir=tmp_path / "work", seed=0, size="quick")
    doc = run_cv(exp, dataset, "piece4", ctx, folds=[0])
    fold = doc.folds[0]
    pred = np.asarray(fold.predictions)
    assert pred.shape == (fold.n_test, 19) and np.isfinite(pred).all()
    assert ((pred >= 0) & (pred <= 1)).all()


def test_full_size_without_weights_is_a_usage_error(dataset: LabelledCorpus, tmp_path: Path) -> None:
    exp = build_experiment("a1", size="full")
    with pytest.raises(UsageError, match="--muq-weights"):
        exp.prepare(dataset.segments, RunContext(workdir=tmp_path, size="full"))


@pytest.mark.parametrize("name", ["a1", "a2", "a3"])
def test_learned_audio_experiments_on_given_audio(name: str, tmp_path: Path) -> None:
    """A1-A3 end to end without fluidsynth: segments that already carry audio (tones) are not rendered."""
    from dataclasses import replace

    from piano_data.audio_io import write_audio

    segs = make_synthetic_corpus(
        SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=4), tmp_path / "synth"
    )
    t = np.arange(24_000) / 24_000
    segs = [
        replace(
            s,
            audio_path=write_audio(
                tmp_path / f"{i}.wav", (0.3 * np.sin(2 * np.pi * (220 + 7 * i) * t)).astype(np.float32)
            ),
        )
        for i, s in enumerate(segs)
    ]
    exp = build_experiment(name, {**TINY, "crop_seconds": 1.0, "eval_seconds": 1.0})
    ctx = RunContext(workdir=tmp_path / "work", seed=0, size="quick")
    doc = run_cv(exp, LabelledCorpus("synthetic-tones", segs, "test", None), "piece4", ctx, folds=[0])
    pred = np.asarray(doc.folds[0].predictions)
    assert pred.shape == (doc.folds[0].n_test, 19) and np.isfinite(pred).all()
    assert ((pred >= 0) & (pred <= 1)).all()
