"""The s4 experiment on a slice of the embedded synthetic corpus (tiny preset): folds, cache, checkpoint, ablation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tiny_presets as presets
from piano_data.errors import PianoDataError
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.checkpoint import load_checkpoint, train_checkpoint
from piano_eval.datasets import LabelledCorpus
from piano_eval.errors import UsageError
from piano_eval.experiments.aligned import S4Experiment
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment

TINY = presets.S4


@pytest.fixture(scope="module")
def segments() -> list:
    segs = make_synthetic_corpus(SyntheticConfig())
    groups = sorted({s.group for s in segs})[:6]
    return [s for s in segs if s.group in groups]


@pytest.mark.parametrize("finetune", ["top", "full"])
def test_prepare_fit_predict_and_cache(tmp_path: Path, segments: list, finetune: str) -> None:
    cfg = {**TINY, "finetune": finetune, "cache_dir": str(tmp_path / "cache")}
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    exp = build_experiment("s4", cfg)
    exp.prepare(segments, ctx)
    cached = list((tmp_path / "cache" / "s4").iterdir())
    assert len(cached) == 1 and (cached[0] / "encoder.safetensors").is_file()
    report = exp.describe()["pretraining"]["report"]
    assert report["steps"] == 4 and "masked_mse_mean_baseline" in report["val_after"]
    test = [s for s in segments if s.group == segments[0].group]
    train = [s for s in segments if s.group != segments[0].group]
    pred = exp.fit_predict(train, test, ctx, fold=0)
    assert pred.shape == (len(test), 19) and np.all((pred >= 0) & (pred <= 1))
    again = build_experiment("s4", cfg)
    again.prepare(segments, ctx)
    assert again.pretrain_info["cache"] == str(cached[0])


def test_checkpoint_round_trip(tmp_path: Path, segments: list) -> None:
    cfg = {**TINY, "cache_dir": str(tmp_path / "cache"), "ensemble": 2, "blend_features_mlp": True}
    cfg |= {"passage_relative": True, "difference_weight": 1.0, "blend_split": True, "note_conv": 4}
    exp = build_experiment("s4", cfg)
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    out = train_checkpoint(exp, LabelledCorpus("synthetic", segments, "v", None), ctx, tmp_path / "ck")
    assert sorted(p.name for p in out.glob("s4_model*.safetensors")) == [
        "s4_model0.safetensors",
        "s4_model1.safetensors",
    ]
    assert not list(out.rglob("*.pt")) and not list(out.rglob("*.pkl"))
    n_mlps = exp.config["blend_mlps"]  # the quick preset's, under the tiny overrides
    assert len(list(out.glob("s4_mlp*.safetensors"))) == len(exp._mlps) == n_mlps
    assert all(0.0 <= w <= 1.0 for w in exp._blend_weight)
    n_features = len(next(iter(exp._features.values())))
    assert exp._mlps[0]["mean"].shape == (2 * n_features,)  # the MLPs read the passage-relative features too
    loaded, manifest = load_checkpoint(out)
    assert manifest["experiment"] == "s4"
    a = exp.predict(segments[:3], ctx)
    b = loaded.predict(segments[:3], ctx)
    assert np.allclose(a.values, b.values, atol=1e-6)
    assert a.confidence is not None and np.all((a.confidence > 0) & (a.confidence <= 1))


def test_fit_does_not_depend_on_the_callers_random_state(tmp_path: Path, segments: list) -> None:
    """Dropout draws come from the fold's seed, not from whatever the process drew before (a fresh process seeds
    torch's global generator at random), and the caller's generator is left as it was."""
    import torch

    cfg = {**TINY, "learned": False, "head_dropout": 0.5, "note_conv": 4, "cache_dir": str(tmp_path / "cache")}
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    preds = []
    for caller_seed in (1, 2):
        exp = build_experiment("s4", cfg)
        exp.prepare(segments, ctx)
        torch.manual_seed(caller_seed)
        preds.append(exp.fit_predict(segments[6:], segments[:6], ctx, 0))
        assert torch.equal(torch.random.get_rng_state(), torch.manual_seed(caller_seed).get_state())
    np.testing.assert_array_equal(preds[0], preds[1])


def test_ablation_without_learned_part_and_missing_score(tmp_path: Path, segments: list) -> None:
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    exp = build_experiment("s4", {**TINY, "learned": False, "cache_dir": str(tmp_path / "cache")})
    exp.prepare(segments, ctx)
    assert not (tmp_path / "cache").exists()  # nothing pretrained
    pred = exp.fit_predict(segments[6:], segments[:6], ctx, 0)
    assert pred.shape == (6, 19)
    from dataclasses import replace

    bare = replace(segments[0], key="bare", score_midi_path=None)
    with pytest.raises(PianoDataError, match="no score"):
        exp.fit_predict(segments[6:], [bare], ctx, 0)
    with pytest.raises(UsageError, match="nothing to train"):
        build_experiment("s4", {"learned": False, "features": False, "raw_deviations": False})
    with pytest.raises(UsageError, match="needs note frames"):
        build_experiment("s4", {"learned": False, "features": True, "features_at": "pooled", "raw_deviations": False})


@pytest.mark.parametrize(
    ("learned", "finetune", "features", "at", "context"),
    [(True, "top", True, "frame", False), (True, "full", False, "frame", True), (False, "top", True, "pooled", True)],
)
def test_stats_pooling_and_raw_deviations(
    tmp_path: Path, segments: list, learned: bool, finetune: str, features: bool, at: str, context: bool
) -> None:
    cfg = {
        **TINY,
        "learned": learned,
        "finetune": finetune,
        "features": features,
        "features_at": at,
        "pool_stats": True,
        "raw_deviations": True,
        "raw_context": context,
        "weight_decay": 0.5,
        "head_dropout": 0.3,
        "cache_dir": str(tmp_path / "cache"),
    }
    exp = build_experiment("s4", cfg)
    assert isinstance(exp, S4Experiment)
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    out = train_checkpoint(exp, LabelledCorpus("synthetic", segments, "v", None), ctx, tmp_path / "ck")
    model = exp._fitted[0]
    n_raw = 12 + (6 if context else 0)  # 9 deviations + 3 statuses (+ 6 score context)
    frame_dim = (model.encoder.body.body.output_dim if learned else 0) + n_raw
    assert model.encoder.output_dim == frame_dim and model.pool.output_dim == 2 * frame_dim
    assert (model.encoder.features is None) == (not features or at == "pooled")
    assert model.side_dim == (exp._n_features if at == "pooled" else 0)
    assert model.head.hidden[3].p == 0.3  # head dropout
    assert exp._raw_stats is not None and np.all(exp._raw_stats[1] > 0)
    raw = model.encoder.body
    np.testing.assert_allclose(raw.mean.numpy(), exp._raw_stats[0], rtol=1e-6, atol=1e-6)
    loaded, _ = load_checkpoint(out)
    a = exp.predict(segments[:3], ctx)
    b = loaded.predict(segments[:3], ctx)
    assert a.values.shape == (3, 19) and np.allclose(a.values, b.values, atol=1e-6)


def test_config_is_typed() -> None:
    with pytest.raises(UsageError, match=r"features_at must be one of 'frame', 'pooled', got 'middle'"):
        build_experiment("s4", {"features_at": "middle"})
    with pytest.raises(UsageError, match=r"corpus_sources must be a list of one of"):
        build_experiment("s4", {"corpus_sources": ["imslp"]})
    assert build_experiment("s4", {"pretrain_steps": "10"}).config["pretrain_steps"] == 10


def test_split_blend_takes_each_part_from_the_model_that_has_it() -> None:
    """A learned model with the right departures from each passage's mean but the wrong levels, an MLP with the
    right levels but no departures: the split blend takes the levels from the MLP and the departures from the
    learned model, and reproduces the ratings; one shared weight cannot."""
    from piano_eval.experiments.aligned_blend import blend, choose_weights

    rng = np.random.default_rng(0)
    groups = [f"p{i // 5}" for i in range(40)]
    level = np.repeat(rng.uniform(0.3, 0.7, (8, 19)), 5, axis=0)
    departure = rng.normal(0, 0.05, (40, 19))
    departure -= np.repeat(departure.reshape(8, 5, 19).mean(1), 5, axis=0)
    y = level + departure
    learned = 0.5 + departure
    mlp = level.copy()
    assert choose_weights(learned, mlp, y, groups, split=True) == (0.0, 1.0)
    assert np.allclose(blend(learned, mlp, (0.0, 1.0), groups), y)
    w, same = choose_weights(learned, mlp, y, groups)
    assert w == same and 0.0 < w < 1.0
    assert np.array_equal(blend(learned, mlp, (0.3, 0.3), groups), 0.3 * learned + 0.7 * mlp)
    members = np.stack([learned, learned + 0.01])  # [members, N, 19] against one MLP prediction
    assert np.allclose(blend(members, mlp, (0.0, 1.0), groups), y[None])  # an offset is a level, not a departure


def test_per_dimension_blend_takes_each_dimension_from_the_model_that_has_it() -> None:
    """The learned model right on the first 10 dimensions, the MLP on the other 9: per-dimension weights 1 and 0
    reproduce the ratings; one shared weight cannot. A dimension without any label gets the first grid weight."""
    from piano_eval.experiments.aligned_blend import blend, choose_weights, is_unblended

    rng = np.random.default_rng(1)
    groups = [f"p{i // 4}" for i in range(40)]
    y = rng.uniform(0.2, 0.8, (40, 19))
    noise = rng.normal(0, 0.1, (40, 19))
    learned, mlp = y + noise * (np.arange(19) >= 10), y + noise * (np.arange(19) < 10)
    between, within = choose_weights(learned, mlp, y, groups, per_dim=True)
    assert np.array_equal(between, within)
    assert np.array_equal(between, (np.arange(19) < 10).astype(float))
    assert np.allclose(blend(learned, mlp, (between, within), groups), y)
    w, _ = choose_weights(learned, mlp, y, groups)
    assert 0.0 < w < 1.0
    y[:, 3] = np.nan
    assert choose_weights(learned, mlp, y, groups, per_dim=True)[0][3] == 0.0
    assert is_unblended((1.0, np.ones(19))) and not is_unblended((1.0, between))


def test_validation_slices_and_per_dimension_weights_round_trip(tmp_path: Path, segments: list) -> None:
    """With val_slices each member early-stops on its own groups (disjoint slices), the blend weights (one per
    dimension) are chosen on all of them, and a checkpoint gives back the same predictions."""
    cfg = {**TINY, "cache_dir": str(tmp_path / "cache"), "ensemble": 2, "blend_features_mlp": True}
    cfg |= {"learned": False, "val_slices": True, "blend_per_dim": True, "val_frac": 0.2, "blend_mlps": 2}
    exp = build_experiment("s4", cfg)
    train = [s for s in segments if s.group != segments[0].group]
    splits = exp._validation_splits(train, 0, 2)
    slices = [{s.group for s in va} for _, va in splits]
    assert all(
        not {s.group for s in tr} & {s.group for s in va} and len(tr) + len(va) == len(train) for tr, va in splits
    )
    assert len(slices) == 2 and not slices[0] & slices[1] and all(len(v) == 1 for v in slices)
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    out = train_checkpoint(exp, LabelledCorpus("synthetic", segments, "v", None), ctx, tmp_path / "ck")
    assert len(list(out.glob("s4_mlp*.safetensors"))) == len(exp._mlps) == 2
    between, within = exp._blend_weight
    assert np.shape(between) == (19,) and np.all((between >= 0) & (between <= 1))
    assert exp.describe()["blend_weights"][0][0] == between.tolist()
    loaded, _ = load_checkpoint(out)
    assert np.array_equal(loaded._blend_weight[0], between) and np.array_equal(loaded._blend_weight[1], within)
    assert np.allclose(exp.predict(segments[:3], ctx).values, loaded.predict(segments[:3], ctx).values, atol=1e-6)
    with pytest.raises(UsageError, match="blend_per_dim"):
        build_experiment("s4", {**TINY, "blend_features_mlp": False, "blend_per_dim": True})
    with pytest.raises(UsageError, match="blend_mlps"):
        build_experiment("s4", {**TINY, "blend_features_mlp": True, "blend_mlps": 0})


def test_note_conv_ignores_padding() -> None:
    """A sequence padded with masked notes (whatever their frames hold) gets the same local frames on its real
    notes as unpadded, and zeros on the padding."""
    import torch
    from piano_data.contracts import EncoderOutput
    from piano_eval.experiments.aligned_model import NoteConv

    class Frames(torch.nn.Module):
        output_dim = 3

        def forward(self, batch: dict) -> EncoderOutput:
            return EncoderOutput(batch["frames"], batch["mask"])

    torch.manual_seed(0)
    conv = NoteConv(Frames(), channels=4, kernel=3)
    x = torch.randn(1, 5, 3)
    padded = torch.cat([x, 100 * torch.randn(1, 3, 3)], 1)
    mask = torch.tensor([[True] * 5 + [False] * 3])
    a = conv({"frames": x, "mask": torch.ones(1, 5, dtype=torch.bool)}).frames
    b = conv({"frames": padded, "mask": mask}).frames
    assert a.shape == (1, 5, 7) and torch.allclose(a, b[:, :5], atol=1e-6)
    assert torch.all(b[:, 5:, 3:] == 0)
    with pytest.raises(ValueError, match="odd"):
        NoteConv(Frames(), channels=4, kernel=4)
    with pytest.raises(UsageError, match="note_conv"):
        build_experiment("s4", {**TINY, "learned": False, "raw_deviations": False, "features": True, "note_conv": 4})
