"""Robustness of an audio experiment to recording conditions: one fitted model, clean vs augmented audio.

:class:`RobustnessProbe` wraps an audio experiment (``a1``, ``a2``, ``a3``) and gives it the runner's
optional ``predict_augmented(test, ctx, fold)`` hook. For each fold it writes augmented copies of the test
audio (one per :class:`Perturbation`, each applying exactly one augmentation of
:class:`piano_data.augment.AudioAugmentor` with parameters drawn per segment from a fixed seed, or fixed ones
such as the SNR) and asks the wrapped experiment for predictions on the clean and all augmented test segments
in one ``fit_predict`` call: one training run, one model, so clean and augmented predictions come from
identical weights. The runner then scores them with :func:`piano_eval.metrics.robustness` into
``summary.robustness`` (pairwise accuracy clean and per augmentation, relative drop, Pearson r between clean
and augmented predictions), which the winner selection's veto reads (:mod:`piano_eval.selection`).

When the experiment evaluates a centred crop (``eval_seconds``), only that crop is augmented and written: the
prediction sees exactly the augmented version of the audio it saw clean (a room IR then has no reverb tail
from the audio before the crop).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.audio_io import load_audio, write_audio
from piano_data.augment import Applied, AudioAugmentor, AugmentConfig
from piano_data.contracts import SAMPLE_RATE
from piano_data.samples import Segment

from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment, RunContext
from piano_eval.results import ResultsRecord

__all__ = [
    "Perturbation",
    "RobustnessProbe",
    "augment_segments",
    "default_suite",
    "robustness_rows",
    "robustness_table",
    "with_robustness",
]


@dataclass(frozen=True)
class Perturbation:
    """One test condition: exactly one augmentation, parameters drawn per segment, ``fixed`` ones on top."""

    name: str
    augmentation: str
    fixed: dict[str, float | str] = field(default_factory=dict)

    def apply(self, augmentor: AudioAugmentor, audio: np.ndarray, seed: int) -> np.ndarray:
        if not self.fixed:
            out, _ = augmentor.apply_only(self.augmentation, audio, seed)
            return out
        _, drawn = augmentor.apply_only(self.augmentation, np.zeros(8, dtype=np.float32), seed)
        params = {**(drawn[0].params if drawn else {}), **self.fixed}
        if self.augmentation == "noise":
            params.setdefault("seed", seed)
        out, _ = augmentor.apply_plan(audio, [Applied(self.augmentation, params)])
        return out


def default_suite(snrs: Sequence[float] = (30.0, 20.0, 10.0)) -> tuple[Perturbation, ...]:
    """Room IR, pink noise at each SNR (dB), phone microphone, pitch shift (+/-50 cents), 3-band EQ."""
    return (
        Perturbation("room_ir", "room_ir"),
        *(Perturbation(f"noise_{int(s)}dB", "noise", {"snr_db": float(s), "source": "pink"}) for s in snrs),
        Perturbation("phone_mic", "phone_mic"),
        Perturbation("pitch_shift", "pitch_shift"),
        Perturbation("eq", "eq"),
    )


def _segment_seed(seed: int, key: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(key.encode())) % (2**31)


def _centre(wave: np.ndarray, seconds: float | None) -> np.ndarray:
    if seconds is None:
        return wave
    n = int(seconds * SAMPLE_RATE)
    if len(wave) <= n:
        return wave
    start = (len(wave) - n) // 2  # the crop piano_eval.experiments.audio.AudioSet takes for prediction
    return wave[start : start + n]


def augment_segments(
    segments: Sequence[Segment],
    perturbation: Perturbation,
    augmentor: AudioAugmentor,
    out_dir: Path,
    *,
    seed: int = 0,
    seconds: float | None = None,
) -> list[Segment]:
    """Copies of rendered ``segments`` whose ``audio_path`` is the perturbed audio, written under ``out_dir``.

    Keys become ``<key>~<perturbation name>``; piece, player, labels and group are kept. ``seconds`` keeps
    only the centred crop of that length (the one a prediction reads).
    """
    out = []
    for s in segments:
        if s.audio_path is None:
            raise UsageError(f"{s.key}: segment has no audio; render it first")
        wave = _centre(load_audio(s.audio_path), seconds)
        y = perturbation.apply(augmentor, wave, _segment_seed(seed, s.key))
        path = write_audio(Path(out_dir) / perturbation.name / f"{zlib.crc32(s.key.encode()):08x}.wav", y)
        out.append(replace(s, key=f"{s.key}~{perturbation.name}", audio_path=path))
    return out


class RobustnessProbe(Experiment):
    """An audio experiment plus ``predict_augmented`` (see the module docstring); the rest delegates."""

    def __init__(
        self,
        inner: Experiment,
        suite: Sequence[Perturbation] | None = None,
        augment: AugmentConfig | None = None,
        seed: int = 0,
    ) -> None:
        from piano_eval.experiments.audio import AudioExperiment
        from piano_eval.experiments.audio_paper import PaperBaseline

        if not isinstance(inner, AudioExperiment) or isinstance(inner, PaperBaseline):
            raise UsageError(f"robustness: {inner.id!r} is not a fine-tuned audio experiment (a1, a2, a3)")
        super().__init__(inner.config)
        self.inner = inner
        self.id = inner.id  # type: ignore[misc]
        self.group = inner.group  # type: ignore[misc]
        self.description = inner.description  # type: ignore[misc]
        self.suite = tuple(suite or default_suite())
        self.augment = augment or AugmentConfig()
        self.seed = seed
        self._augmented: dict[int, tuple[list[str], dict[str, np.ndarray]]] = {}

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        self.inner.prepare(segments, ctx)

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        from piano_eval.experiments.audio import render_audio

        test = render_audio(test, self.inner.config)
        augmentor = AudioAugmentor(self.augment)
        out_dir = ctx.workdir / "robustness" / f"fold{fold}"
        seconds = self.inner.config.get("eval_seconds")
        copies = [
            augment_segments(test, p, augmentor, out_dir, seed=self.seed + fold, seconds=seconds) for p in self.suite
        ]
        pred = np.asarray(self.inner.fit_predict(train, [*test, *(s for c in copies for s in c)], ctx, fold))
        n = len(test)
        self._augmented[fold] = (
            [s.key for s in test],
            {p.name: pred[n * (k + 1) : n * (k + 2)] for k, p in enumerate(self.suite)},
        )
        return pred[:n]

    def predict_augmented(self, test: Sequence[Segment], ctx: RunContext, fold: int) -> dict[str, np.ndarray]:
        """The augmented predictions of this fold's ``fit_predict``, one ``[len(test), 19]`` array each."""
        keys, preds = self._augmented.pop(fold, ([], {}))
        if keys != [s.key for s in test]:
            raise RuntimeError(f"robustness: fold {fold} was not predicted by fit_predict for these segments")
        return preds

    def describe(self) -> dict[str, Any]:
        doc = self.inner.describe()
        doc["robustness"] = {
            "suite": [asdict(p) for p in self.suite],
            "augment": {k: str(v) for k, v in asdict(self.augment).items()},
            "seed": self.seed,
        }
        return doc


def with_robustness(experiment: Experiment, **kwargs: Any) -> Experiment:
    """``experiment`` itself when it already has ``predict_augmented``, else a :class:`RobustnessProbe`."""
    if hasattr(experiment, "predict_augmented"):
        return experiment
    return RobustnessProbe(experiment, **kwargs)


def robustness_rows(doc: ResultsRecord) -> list[dict[str, Any]]:
    """``summary.robustness`` of a results document as rows: condition, pairwise accuracy, drop, Pearson r."""
    rob = doc.summary.robustness
    if rob is None:
        return []
    rows: list[dict[str, Any]] = [
        {
            "condition": "clean",
            "pairwise_accuracy": rob.pairwise_clean,
            "drop": 0.0,
            "pearson_vs_clean": 1.0,
        }
    ]
    for name, v in rob.per_augmentation.items():
        rows.append(
            {
                "condition": name,
                "pairwise_accuracy": v.pairwise_accuracy,
                "drop": v.drop,
                "pearson_vs_clean": v.pearson_clean_vs_augmented,
            }
        )
    return rows


def robustness_table(doc: ResultsRecord) -> str:
    """Markdown table of :func:`robustness_rows` plus the mean and worst drop."""
    from piano_eval.compare import fmt

    rob = doc.summary.robustness
    if rob is None:
        return f"{doc.label}: no robustness measurement"
    out = ["| Condition | Pairwise | Relative drop | Pearson r vs clean |", "|---|---|---|---|"]
    for r in robustness_rows(doc):
        drop = "" if r["condition"] == "clean" or r["drop"] is None else f"{100 * r['drop']:+.1f}%"
        pw, r_clean = fmt(r["pairwise_accuracy"]), fmt(r["pearson_vs_clean"])
        out.append(f"| {r['condition']} | {pw} | {drop} | {r_clean} |")
    out.append(f"\nmean drop {fmt(rob.mean_drop)}, max drop {fmt(rob.max_drop)}")
    return "\n".join(out)
