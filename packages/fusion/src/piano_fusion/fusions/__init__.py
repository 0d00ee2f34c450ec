"""The fusions F1 (cross-attention), F2 (concatenation) and F3 (per-dimension gates)."""

from piano_fusion.fusions.base import Fusion, FusionOutput
from piano_fusion.fusions.build import build_fusion
from piano_fusion.fusions.concat import ConcatFusion
from piano_fusion.fusions.cross_attention import CrossAttentionBlock, CrossAttentionFusion
from piano_fusion.fusions.gated import GatedFusion

__all__ = [
    "ConcatFusion",
    "CrossAttentionBlock",
    "CrossAttentionFusion",
    "Fusion",
    "FusionOutput",
    "GatedFusion",
    "build_fusion",
]
