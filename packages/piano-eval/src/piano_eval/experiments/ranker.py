"""``baseline-ranker``: the contrastive ranker of the design, on the audio track.

Attention pooling -> a shared encoder (the projection MLP to ``z``) -> piece-based InfoNCE (performances of
the same passage are positives) plus per-dimension pairwise ranking heads, with a light regression term so
that the quality head also gives absolute values for R^2. Same tracks, cache, recipe and early stopping as
``f1``-``f3`` (see :mod:`piano_eval.experiments.fusion`), with the audio modality alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from piano_fusion import FusionKind, LossWeights

from piano_eval.experiments.fusion import DEFAULTS as FUSION_DEFAULTS
from piano_eval.experiments.fusion import _FusionExperiment

DEFAULTS: dict[str, Any] = {
    **FUSION_DEFAULTS,
    "modalities": ["audio"],
    "regression_weight": 0.3,
    "ranking_weight": 1.0,
    "contrastive_weight": 0.2,
    "temperature": 0.1,
}


class BaselineRanker(_FusionExperiment):
    id = "baseline-ranker"
    group = "baseline"  # type: ignore[assignment]  # its table is the audio one (selection.GROUP_OF)
    kind: ClassVar[FusionKind] = "concat"
    description = "contrastive ranker: attention pooling -> shared encoder -> piece InfoNCE + per-dimension ranking"
    defaults = DEFAULTS

    def loss_weights(self) -> LossWeights:
        c = self.config
        return LossWeights(
            regression=float(c["regression_weight"]),
            ranking=float(c["ranking_weight"]),
            contrastive=float(c["contrastive_weight"]),
            ranking_margin=float(c["ranking_margin"]),
            temperature=float(c["temperature"]),
        )
