"""piano_eval.robustness: perturbed test audio, and the probe giving the runner augmented predictions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from piano_data.audio_io import load_audio, write_audio
from piano_data.augment import AudioAugmentor
from piano_data.contracts import SAMPLE_RATE
from piano_data.samples import Segment
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.datasets import LabelledCorpus
from piano_eval.errors import UsageError
from piano_eval.experiments.audio import AudioExperiment
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.features import FeatureBaseline
from piano_eval.robustness import (
    Perturbation,
    RobustnessProbe,
    augment_segments,
    default_suite,
    robustness_rows,
    robustness_table,
    with_robustness,
)
from piano_eval.runner import run_cv
from piano_eval.selection import rows_from_results


def _tone(path: Path, seconds: float, freq: float, amp: float = 0.3) -> Path:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return write_audio(path, (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32))


def _with_audio(segments: list[Segment], folder: Path, seconds: float = 1.0) -> list[Segment]:
    out = []
    for i, s in enumerate(segments):
        amp = 0.1 + 0.8 * float(s.labels[0]) if s.labels is not None else 0.3  # loudness follows dimension 0
        out.append(replace(s, audio_path=_tone(folder / f"{i}.wav", seconds, 220 + 5 * (i % 40), amp)))
    return out


class _Loudness(AudioExperiment):
    """A stand-in audio model: predicts every dimension from the RMS of the audio it is given (no MuQ)."""

    id = "loudness"

    def fit_predict(self, train, test, ctx, fold):  # type: ignore[no-untyped-def, override]
        rms = np.array([np.sqrt(np.mean(load_audio(s.audio_path) ** 2)) for s in test])
        return np.clip(np.repeat(rms[:, None] * 2.0, 19, axis=1), 0.0, 1.0)


def test_default_suite_covers_the_design() -> None:
    names = [p.name for p in default_suite()]
    assert names == ["room_ir", "noise_30dB", "noise_20dB", "noise_10dB", "phone_mic", "pitch_shift", "eq"]


def test_noise_perturbation_hits_its_snr(tmp_path: Path) -> None:
    seg = Segment("k", tmp_path / "x.mid", "p", "1", "a", "w", audio_path=_tone(tmp_path / "t.wav", 2.0, 440.0))
    noise = Perturbation("noise_10dB", "noise", {"snr_db": 10.0, "source": "white"})
    (out,) = augment_segments([seg], noise, AudioAugmentor(), tmp_path / "aug", seed=3)
    clean, noisy = load_audio(seg.audio_path), load_audio(out.audio_path)
    snr = 10 * np.log10(np.mean(clean**2) / np.mean((noisy - clean) ** 2))
    assert out.key == "k~noise_10dB" and out.group == seg.group
    assert snr == pytest.approx(10.0, abs=0.3)  # known answer: the fixed SNR, whatever the drawn one was
    (again,) = augment_segments([seg], noise, AudioAugmentor(), tmp_path / "aug2", seed=3)
    np.testing.assert_array_equal(load_audio(again.audio_path), noisy)  # seeded: reproducible


def test_centre_crop_is_what_gets_augmented(tmp_path: Path) -> None:
    seg = Segment("k", tmp_path / "x.mid", "p", "1", "a", "w", audio_path=_tone(tmp_path / "t.wav", 3.0, 440.0))
    (out,) = augment_segments([seg], default_suite()[-1], AudioAugmentor(), tmp_path / "aug", seconds=1.0)
    assert len(load_audio(out.audio_path)) == SAMPLE_RATE


def test_probe_gives_the_runner_robustness(tmp_path: Path) -> None:
    segments = _with_audio(make_synthetic_corpus(SyntheticConfig()), tmp_path / "audio", seconds=0.5)
    dataset = LabelledCorpus("synthetic+tones", segments, "v", None)
    suite = [p for p in default_suite() if p.name in ("room_ir", "noise_30dB", "noise_10dB", "eq")]
    probe = with_robustness(_Loudness({"eval_seconds": None}), suite=suite)
    assert isinstance(probe, RobustnessProbe) and probe.id == "loudness"
    doc = run_cv(probe, dataset, "piece4", RunContext(workdir=tmp_path / "work"), folds=[0])
    rob = doc.summary.robustness
    assert rob is not None and set(rob.per_augmentation) == {p.name for p in suite}
    assert doc.folds[0].pairwise_per_dim[0] > 0.9  # loudness carries dimension 0: clean ranking works
    for name, v in rob.per_augmentation.items():
        assert v.pearson_clean_vs_augmented is not None and np.isfinite(v.pearson_clean_vs_augmented), name
    assert (rob.per_augmentation["noise_30dB"].pearson_clean_vs_augmented or 0.0) > 0.99  # barely changes RMS
    assert doc.config["robustness"]["suite"][0]["name"] == "room_ir"
    assert rows_from_results([doc])[0].robustness_drop == rob.mean_drop
    assert [r["condition"] for r in robustness_rows(doc)][:2] == ["clean", "eq"]
    assert "| clean |" in robustness_table(doc)


def test_probe_refuses_non_audio_experiments() -> None:
    with pytest.raises(UsageError, match="not a fine-tuned audio experiment"):
        RobustnessProbe(FeatureBaseline())
