"""Smoke tests of the s1/s2/s3 experiments on a slice of the embedded synthetic corpus (tiny presets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tiny_presets as presets
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment

TINY = presets.SYMBOLIC


@pytest.fixture(scope="module")
def segments() -> list:
    segs = make_synthetic_corpus(SyntheticConfig())
    groups = sorted({s.group for s in segs})[:8]
    return [s for s in segs if s.group in groups]


@pytest.mark.parametrize(("exp_id", "finetune"), [("s1", "top"), ("s2", "full"), ("s3", "top")])
def test_prepare_fit_predict_and_cache(tmp_path: Path, segments: list, exp_id: str, finetune: str) -> None:
    cfg = {**TINY, "finetune": finetune, "cache_dir": str(tmp_path / "cache")}
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    exp = build_experiment(exp_id, cfg)
    exp.prepare(segments, ctx)
    cached = list((tmp_path / "cache" / exp_id).iterdir())
    assert len(cached) == 1 and (cached[0] / "model.safetensors").is_file()
    test_groups = {segments[0].group}
    train = [s for s in segments if s.group not in test_groups]
    test = [s for s in segments if s.group in test_groups]
    pred = exp.fit_predict(train, test, ctx, fold=0)
    assert pred.shape == (len(test), 19) and np.all((pred >= 0) & (pred <= 1))
    again = build_experiment(exp_id, cfg)
    again.prepare(segments, ctx)  # reuses the cached pretraining
    assert again.pretrain_info["cache"] == str(cached[0])
    assert again.describe()["encoder_parameters"] > 0


def test_unknown_key_and_bad_finetune(tmp_path: Path, segments: list) -> None:
    from piano_eval.errors import UsageError

    with pytest.raises(UsageError):
        build_experiment("s2", {"nonsense": 1})
    # a wrong value fails when the experiment is built (one line), before any pretraining
    with pytest.raises(UsageError, match=r"^experiment 's2': finetune must be one of 'full', 'top', got 'half'$"):
        build_experiment("s2", {**TINY, "finetune": "half", "cache_dir": str(tmp_path)})
    with pytest.raises(UsageError, match="preset must be one of tiny, quick, base, got 'small'"):
        build_experiment("s2", {"preset": "small"})
    with pytest.raises(UsageError, match="pretrain_epochs must be an integer, got 'two'"):
        build_experiment("s1", {"pretrain_epochs": "two"})
    exp = build_experiment("s1", {"finetune_lr": "1e-3", "corpus_max_files": None})  # --set reads 1e-3 as text
    assert exp.config["finetune_lr"] == 1e-3 and exp.settings.finetune_lr == 1e-3
    assert exp.settings.corpus_max_files is None
