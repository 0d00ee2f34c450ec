"""The experiment ids ``piano-eval run`` knows, each a lazily imported class (no import-time side effects)."""

from __future__ import annotations

import importlib
from typing import Any

from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment

#: experiment id -> "module:ClassName". Static on purpose: no global mutable registry.
EXPERIMENTS: dict[str, str] = {
    "a1": "piano_eval.experiments.audio:A1LoRA",
    "a2": "piano_eval.experiments.audio:A2Staged",
    "a3": "piano_eval.experiments.audio:A3GradualUnfreeze",
    "baseline-features": "piano_eval.experiments.features:FeatureBaseline",
    "baseline-ranker": "piano_eval.experiments.ranker:BaselineRanker",
    "baseline-paper": "piano_eval.experiments.audio_paper:PaperBaseline",
    "f1": "piano_eval.experiments.fusion:F1CrossAttention",
    "f2": "piano_eval.experiments.fusion:F2Concat",
    "f3": "piano_eval.experiments.fusion:F3Gated",
    "s1": "piano_eval.experiments.symbolic:S1Experiment",
    "s2": "piano_eval.experiments.symbolic:S2Experiment",
    "s3": "piano_eval.experiments.symbolic:S3Experiment",
    "s4": "piano_eval.experiments.aligned:S4Experiment",
}


class UnknownExperimentError(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown experiment {name!r}; choose one of: {', '.join(sorted(EXPERIMENTS))}")


def experiment_class(name: str) -> type[Experiment]:
    """Import and return the class behind an experiment id."""
    if name not in EXPERIMENTS:
        raise UnknownExperimentError(name)
    module_name, _, cls_name = EXPERIMENTS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    if not (isinstance(cls, type) and issubclass(cls, Experiment)):
        raise TypeError(f"{EXPERIMENTS[name]} is not an Experiment")
    return cls


def build_experiment(
    name: str,
    overrides: dict[str, Any] | None = None,
    *,
    size: str = "quick",
    preset_file: str | None = None,
) -> Experiment:
    """An experiment configured by its preset at ``size`` (or ``preset_file``), then ``overrides``."""
    from piano_eval.presets import resolve_config

    cls = experiment_class(name)
    known = None if cls.defaults is None else set(cls.defaults)
    config = resolve_config(name, size, overrides, preset_file, known)
    return cls({**config, "size": size})
