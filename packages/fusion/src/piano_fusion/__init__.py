"""piano-fusion: attention pooling, projection to ``z``, the fusions F1-F3, heads, losses and ``PianoModel``.

Works on :class:`piano_data.contracts.EncoderOutput` only; it never imports an encoder package.
"""

from piano_fusion.config import (
    DEFAULT_IN_DIMS,
    MODALITIES,
    FusionConfig,
    FusionKind,
    HeadConfig,
    LossWeights,
    Modality,
    PianoModelConfig,
    fusion_base,
    fusion_tiny,
    piano_model_base,
    piano_model_tiny,
)
from piano_fusion.fusions import (
    ConcatFusion,
    CrossAttentionFusion,
    Fusion,
    FusionOutput,
    GatedFusion,
    build_fusion,
)
from piano_fusion.heads import DifficultyHead, QualityHead, RankingHead, ordinal_to_level
from piano_fusion.losses import (
    augmentation_invariance_loss,
    difficulty_loss,
    group_ids,
    info_nce_loss,
    pair_difference_loss,
    pairwise_ranking_loss,
    regression_loss,
    total_loss,
)
from piano_fusion.model import Mode, PianoModel, PianoOutput
from piano_fusion.objective import (
    MultiTaskLoss,
    QualityObjective,
    TierObjective,
    ordinal_pair_loss,
    pair_contrast_loss,
    piece_contrast,
)
from piano_fusion.pooling import AttentionPooling, ModalityEmbedder, ProjectionHead, masked_mean, masked_softmax
from piano_fusion.regressor import EncoderRegressor
from piano_fusion.validation import FusionInputError

__all__ = [
    "DEFAULT_IN_DIMS",
    "MODALITIES",
    "AttentionPooling",
    "ConcatFusion",
    "CrossAttentionFusion",
    "DifficultyHead",
    "EncoderRegressor",
    "Fusion",
    "FusionConfig",
    "FusionInputError",
    "FusionKind",
    "FusionOutput",
    "GatedFusion",
    "HeadConfig",
    "LossWeights",
    "Modality",
    "ModalityEmbedder",
    "Mode",
    "MultiTaskLoss",
    "PianoModel",
    "PianoModelConfig",
    "PianoOutput",
    "ProjectionHead",
    "QualityHead",
    "QualityObjective",
    "RankingHead",
    "TierObjective",
    "augmentation_invariance_loss",
    "build_fusion",
    "difficulty_loss",
    "fusion_base",
    "fusion_tiny",
    "group_ids",
    "info_nce_loss",
    "masked_mean",
    "masked_softmax",
    "ordinal_pair_loss",
    "ordinal_to_level",
    "pair_contrast_loss",
    "pair_difference_loss",
    "pairwise_ranking_loss",
    "piano_model_base",
    "piano_model_tiny",
    "piece_contrast",
    "regression_loss",
    "total_loss",
]
