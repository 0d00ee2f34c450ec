"""Frozen configs for the fusions, heads and :class:`~piano_fusion.model.PianoModel`, with named presets."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from piano_data.contracts import MUQ_DIM, SYMBOLIC_DIM

__all__ = [
    "DEFAULT_IN_DIMS",
    "MODALITIES",
    "FusionConfig",
    "FusionKind",
    "HeadConfig",
    "LossWeights",
    "Modality",
    "PianoModelConfig",
    "fusion_base",
    "fusion_tiny",
    "piano_model_base",
    "piano_model_tiny",
]

FusionKind = Literal["cross_attention", "concat", "gated"]
Modality = Literal["audio", "perf_midi", "score_midi"]
MODALITIES: tuple[Modality, ...] = ("audio", "perf_midi", "score_midi")
#: Widths of the project's encoders: MuQ layers 9-12 concatenated, and every symbolic encoder.
DEFAULT_IN_DIMS: dict[str, int] = {"audio": MUQ_DIM, "perf_midi": SYMBOLIC_DIM, "score_midi": SYMBOLIC_DIM}


@dataclass(frozen=True)
class FusionConfig:
    """How the modalities are combined.

    ``kind``: ``cross_attention`` (F1: each modality's sequence attends to the others', then pooled),
    ``concat`` (F2: pooled ``z`` of each modality concatenated -> MLP), ``gated`` (F3: one gate per quality
    dimension mixing the modalities' ``z``). ``z_dim`` is the width of ``z``; ``d_model``, ``n_heads`` and
    ``n_layers`` size F1's cross-attention blocks.
    """

    kind: FusionKind = "concat"
    z_dim: int = 512
    hidden: int = 512
    pool_hidden: int = 128
    dropout: float = 0.1
    d_model: int = 256
    n_heads: int = 4
    n_layers: int = 1
    ffn_mult: int = 2


@dataclass(frozen=True)
class HeadConfig:
    """Heads on ``z``: quality (19 in [0, 1]), ranking (19 scores), difficulty (regression or ordinal)."""

    hidden: int = 256
    dropout: float = 0.1
    difficulty: Literal["regression", "ordinal"] = "regression"
    n_difficulty_levels: int = 8


@dataclass(frozen=True)
class LossWeights:
    """Per-term weights of ``L_total``; a zero weight switches a term off (it is then not computed)."""

    regression: float = 1.0
    ranking: float = 0.0
    contrastive: float = 0.0
    invariance: float = 0.0
    difficulty: float = 0.0
    ranking_margin: float = 0.05
    temperature: float = 0.1


@dataclass(frozen=True)
class PianoModelConfig:
    """Which modalities, their input widths, the fusion and the heads.

    ``modalities`` is any subset of ``audio``, ``perf_midi``, ``score_midi`` holding at least one performance
    modality; with ``score_midi`` the model is score-conditioned. ``in_dims`` gives each modality's width
    (same order); ``None`` takes :data:`DEFAULT_IN_DIMS` (or the encoders' ``output_dim`` when given).
    Encoders start frozen; :meth:`PianoModel.unfreeze_encoders` opens them at ``encoder_lr``.
    """

    modalities: tuple[Modality, ...] = ("audio", "perf_midi")
    in_dims: tuple[int, ...] | None = None
    fusion: FusionConfig = field(default_factory=FusionConfig)
    heads: HeadConfig = field(default_factory=HeadConfig)
    encoder_lr: float = 1e-6


def fusion_tiny(kind: FusionKind = "concat") -> FusionConfig:
    """A fusion small enough for unit tests (width 32)."""
    return FusionConfig(kind=kind, z_dim=32, hidden=32, pool_hidden=16, dropout=0.0, d_model=16, n_heads=2)


def fusion_base(kind: FusionKind = "concat") -> FusionConfig:
    """The design's fusion: ``z [512]``, 4-head cross-attention at width 256."""
    return FusionConfig(kind=kind)


def piano_model_tiny(
    modalities: tuple[Modality, ...] = ("audio", "perf_midi"),
    kind: FusionKind = "concat",
    in_dims: tuple[int, ...] | None = None,
) -> PianoModelConfig:
    """A tiny :class:`PianoModelConfig` (width 32) for tests and smoke runs."""
    return PianoModelConfig(
        modalities=modalities,
        in_dims=in_dims,
        fusion=fusion_tiny(kind),
        heads=HeadConfig(hidden=32, dropout=0.0, n_difficulty_levels=4),
    )


def piano_model_base(
    modalities: tuple[Modality, ...] = ("audio", "perf_midi"),
    kind: FusionKind = "concat",
    in_dims: tuple[int, ...] | None = None,
) -> PianoModelConfig:
    """The design's :class:`PianoModelConfig` (``z [512]``)."""
    return replace(PianoModelConfig(modalities=modalities, in_dims=in_dims), fusion=fusion_base(kind))
