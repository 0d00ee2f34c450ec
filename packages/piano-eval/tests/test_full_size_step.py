"""The `full` presets of the learned symbolic experiments are configuration only: on the CPU, with their full-size
encoders, each one pretrains and fine-tunes for a single step on a slice of the synthetic corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment

#: Only the amount of work is cut; the encoder sizes and every other setting stay those of the full preset.
ONE_STEP: dict[str, dict[str, Any]] = {
    "s1": {
        "corpus_sources": ["percepiano"],
        "corpus_max_files": 4,
        "corpus_max_windows_per_file": 1,
        "pretrain_epochs": 1,
        "finetune_epochs": 1,
        "patience": 1,
    },
    "s4": {
        "corpus_sources": ["percepiano"],
        "pretrain_steps": 1,
        "pretrain_batch_size": 4,
        "finetune_epochs": 1,
        "patience": 1,
        "ensemble": 1,
    },
}
ONE_STEP["s2"] = ONE_STEP["s3"] = ONE_STEP["s1"]


@pytest.fixture(scope="module")
def segments() -> list:
    segs = make_synthetic_corpus(SyntheticConfig())
    groups = sorted({s.group for s in segs})[:3]
    return [s for s in segs if s.group in groups]


@pytest.mark.parametrize("exp_id", ["s1", "s2", "s3", "s4"])
def test_full_preset_runs_one_step_on_cpu(tmp_path: Path, segments: list, exp_id: str) -> None:
    full = build_experiment(exp_id, {**ONE_STEP[exp_id], "cache_dir": str(tmp_path / "cache")}, size="full")
    quick = build_experiment(exp_id, {"cache_dir": str(tmp_path / "quick")}, size="quick")
    assert full.config["size"] == "full" and full.config["preset"] != quick.config["preset"]
    ctx = RunContext(workdir=tmp_path / "work", seed=0, size="full")
    full.prepare(segments, ctx)
    test = [s for s in segments if s.group == segments[0].group]
    train = [s for s in segments if s.group != segments[0].group]
    pred = full.fit_predict(train, test, ctx, fold=0)
    assert pred.shape == (len(test), 19) and np.all(np.isfinite(pred))
    assert full.describe()["encoder_parameters"] > 1_000_000  # the full-size encoder, not a tiny stand-in
