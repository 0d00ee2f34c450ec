"""``baseline-ranker``: the contrastive ranker of the design, on the audio track.

Attention pooling -> a shared encoder (the projection MLP to ``z``) -> piece-based InfoNCE (performances of
the same passage are positives) plus per-dimension pairwise ranking heads, with a light regression term so
that the quality head also gives absolute values for R^2. Same tracks, cache, recipe and early stopping as
``f1``-``f3`` (see :mod:`piano_eval.experiments.fusion`), with the audio modality alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from piano_fusion import FusionKind, LossWeights

from piano_eval.experiments.fusion import FusionExperimentConfig, _FusionExperiment


@dataclass(frozen=True)
class RankerConfig(FusionExperimentConfig):
    """The fusion keys with the audio track alone, plus the contrastive ranker's loss weights."""

    modalities: list[Literal["audio", "perf_midi", "score_midi"]] = field(default_factory=lambda: ["audio"])
    regression_weight: float = 0.3
    ranking_weight: float = 1.0
    contrastive_weight: float = 0.2
    temperature: float = 0.1


class BaselineRanker(_FusionExperiment):
    id = "baseline-ranker"
    group = "baseline"  # type: ignore[assignment]  # its table is the audio one (selection.GROUP_OF)
    kind: ClassVar[FusionKind] = "concat"
    description = "contrastive ranker: attention pooling -> shared encoder -> piece InfoNCE + per-dimension ranking"
    config_type = RankerConfig

    def loss_weights(self) -> LossWeights:
        c = self.config
        return LossWeights(
            regression=float(c["regression_weight"]),
            ranking=float(c["ranking_weight"]),
            contrastive=float(c["contrastive_weight"]),
            ranking_margin=float(c["ranking_margin"]),
            temperature=float(c["temperature"]),
        )
