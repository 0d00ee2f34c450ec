"""f1/f2/f3 end to end on a tiny synthetic corpus (fluidsynth rendering, cached tracks, one short fold)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tiny_presets as presets
from piano_data.soundfonts import available_soundfonts
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.errors import UsageError
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment

TINY = presets.FUSION


def _needs_rendering() -> None:
    if "timgm6mb" not in available_soundfonts():  # the pretty_midi wheel ships it: absent only if broken
        pytest.skip("the timgm6mb soundfont is not installed")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fusion-cache")


@pytest.fixture(scope="module")
def corpus() -> list:
    return make_synthetic_corpus(SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=3))


@pytest.mark.parametrize(
    ("exp_id", "tracks"),
    [
        ("f1", {"symbolic_track": "features", "audio_track": "mel"}),
        ("f2", {}),
        ("f3", {"audio_track": "mel"}),
        ("f2", {"audio_track": "mel", "modalities": ["audio"]}),  # single-track ablation
        # score-conditioned: the score's own track conditions the fused performance (FiLM)
        (
            "f1",
            {"symbolic_track": "features", "audio_track": "mel", "modalities": ["audio", "perf_midi", "score_midi"]},
        ),
    ],
)
def test_fusion_experiment_runs_a_fold(
    exp_id: str, tracks: dict, corpus: list, cache_dir: Path, tmp_path: Path
) -> None:
    _needs_rendering()
    exp = build_experiment(exp_id, {**TINY, **tracks, "cache_dir": str(cache_dir)})
    ctx = RunContext(workdir=tmp_path / "work", seed=0)
    exp.prepare(corpus, ctx)
    test_groups = {corpus[0].group}
    train = [s for s in corpus if s.group not in test_groups]
    test = [s for s in corpus if s.group in test_groups]
    pred = exp.fit_predict(train, test, ctx, fold=0)
    assert pred.shape == (len(test), 19)
    assert np.isfinite(pred).all() and (pred >= 0).all() and (pred <= 1).all()
    doc = exp.describe()
    assert set(doc["tracks"]) == set(tracks.get("modalities", exp.config["modalities"]))
    if tracks.get("symbolic_track") == "features" or tracks.get("audio_track") == "mel":
        assert "stand-in" in " ".join(doc["tracks"].values())
    assert ("audio_gate_per_dimension" in doc) == (exp_id == "f3")
    if exp_id == "f3":
        assert all(0.0 <= g <= 1.0 for g in doc["audio_gate_per_dimension"].values())
    # a second experiment on the same cache reuses every extracted track (no re-encoding)
    cache_files = sorted(cache_dir.rglob("*.npy"))
    again = build_experiment(exp_id, {**TINY, **tracks, "cache_dir": str(cache_dir)})
    again.prepare(corpus, ctx)
    assert sorted(cache_dir.rglob("*.npy")) == cache_files


def test_fit_before_prepare_is_an_error(corpus: list, tmp_path: Path) -> None:
    exp = build_experiment("f2", {**TINY})
    with pytest.raises(RuntimeError, match="prepare"):
        exp.fit_predict(corpus[:4], corpus[4:6], RunContext(workdir=tmp_path), fold=0)


def test_bad_modalities() -> None:
    with pytest.raises(UsageError, match="modalities must be a list of one of 'audio', 'perf_midi', 'score_midi', got"):
        build_experiment("f2", {"modalities": ["video"]})
    with pytest.raises(UsageError, match="modalities must be a non-empty subset"):
        build_experiment("f2", {"modalities": []})


def test_unknown_track_is_an_error_when_built() -> None:
    with pytest.raises(UsageError, match="symbolic_track must be one of 's1', 'features', got 'nope'"):
        build_experiment("f2", {**TINY, "symbolic_track": "nope"})


def test_score_modality_needs_scores(corpus: list, tmp_path: Path) -> None:
    from dataclasses import replace

    exp = build_experiment("f2", {**TINY, "symbolic_track": "features", "modalities": ["perf_midi", "score_midi"]})
    no_score = [replace(s, score_midi_path=None) for s in corpus]
    with pytest.raises(UsageError, match="score_midi modality needs a score MIDI"):
        exp.prepare(no_score, RunContext(workdir=tmp_path))
    with pytest.raises(UsageError, match="needs audio or perf_midi"):
        build_experiment("f2", {"modalities": ["score_midi"]})
