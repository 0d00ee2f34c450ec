"""Every learned experiment fine-tunes on the tiers its preset configures: the loader it trains on is a
TierMixer yielding exactly those tiers (training itself is replaced by a recorder: the experiments' own smoke
tests train)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piano_data.audio_io import write_audio
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval import training
from piano_eval.errors import UsageError
from piano_eval.experiments import aligned_model, audio, symbolic
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment

EVEN = {"tier_weights": {"t1": 1.0, "t2": 1.0, "t3": 1.0}}
SYMBOLIC = {"preset": "tiny", "corpus_sources": ["percepiano"], "pretrain_epochs": 1, "batch_size": 4, **EVEN}
S4 = {
    "preset": "tiny",
    "corpus_sources": ["percepiano"],
    "pretrain_steps": 2,
    "pretrain_batch_size": 8,
    "ensemble": 1,
    **EVEN,
}
AUDIO = {"muq": "tiny", "max_train": 16, "crop_seconds": 1.0, "eval_seconds": 1.0, "batch_size": 4, **EVEN}
FUSION = {
    "symbolic_track": "features", "audio_track": "mel", "z_dim": 16, "hidden": 16, "d_model": 16, "n_heads": 2,
    "batch_size": 4, **EVEN,
}  # fmt: skip


def _tiers(loader: Any, epochs: int = 5) -> set[str]:
    """The tiers of every batch of a few epochs (the mixer draws tiers at random: a tiny fold has few steps)."""
    out = set()
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        out |= {tier for tier, _ in loader}
    return out


@pytest.fixture()
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The tiers of every batch of each training loader the experiments build (instead of training)."""
    seen: list[set[str]] = []
    real = training.fit_module

    def fit_module(module: Any, loader: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(module, training.MultiTierModule):  # self-supervised pretraining: train it
            return real(module, loader, *args, **kwargs)
        seen.append(_tiers(loader))
        return None

    def train_regressor(model: Any, loader: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(_tiers(loader))
        return {"epochs": 0}

    for owner in (training, symbolic, audio):
        monkeypatch.setattr(owner, "fit_module", fit_module)
    monkeypatch.setattr(aligned_model, "train_regressor", train_regressor)
    return seen


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list:
    """Two works x 2 passages x 4 players, each with a short tone as its audio (no rendering needed)."""
    root = tmp_path_factory.mktemp("tiers-corpus")
    segs = make_synthetic_corpus(SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=4), root)
    t = np.arange(24_000) / 24_000
    return [
        replace(
            s, audio_path=write_audio(root / f"{i}.wav", (0.3 * np.sin(2 * np.pi * (220 + 7 * i) * t)).astype("f4"))
        )
        for i, s in enumerate(segs)
    ]


def _manifest(corpus: list, path: Path) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["recording_id", "competition", "round", "placement", "piece", "performer", "audio_path"])
        for k, s in enumerate(corpus[:6]):
            writer.writerow([f"r{k}", "comp", "final", str(k + 1), "a piece", f"p{k}", str(s.audio_path)])
    return path


def _fold(exp_id: str, config: dict[str, Any], corpus: list, tmp_path: Path) -> None:
    extra = {} if exp_id.startswith("a") else {"cache_dir": str(tmp_path / "cache")}
    exp = build_experiment(exp_id, {**config, **extra})
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    exp.prepare(corpus, ctx)
    test = [s for s in corpus if s.group == corpus[0].group]
    exp.fit_predict([s for s in corpus if s.group != corpus[0].group], test, ctx, fold=0)


@pytest.mark.parametrize(
    ("exp_id", "config"),
    [("s1", SYMBOLIC), ("s2", SYMBOLIC), ("s3", SYMBOLIC), ("s4", S4), ("a1", AUDIO), ("a3", AUDIO),
     ("f3", FUSION), ("baseline-ranker", FUSION)],
)  # fmt: skip
def test_every_learned_experiment_trains_on_t1_and_t3_without_a_manifest(
    exp_id: str, config: dict[str, Any], corpus: list, recorded: list[set[str]], tmp_path: Path
) -> None:
    _fold(exp_id, config, corpus, tmp_path)
    assert recorded == [{"t1", "t3"}]


def test_t3_off_and_t2_from_a_competition_manifest(corpus: list, recorded: list[set[str]], tmp_path: Path) -> None:
    _fold("s3", {**SYMBOLIC, "tier_weights": {"t1": 1.0, "t2": 1.0, "t3": 0.0}}, corpus, tmp_path / "s3")
    manifest = str(_manifest(corpus, tmp_path / "competition.csv"))
    _fold("a1", {**AUDIO, "competition_manifest": manifest}, corpus, tmp_path / "a1")
    assert recorded == [{"t1"}, {"t1", "t2", "t3"}]
    with pytest.raises(UsageError, match="cannot read competition recordings"):
        _fold("f3", {**FUSION, "competition_manifest": manifest}, corpus, tmp_path / "f3")
