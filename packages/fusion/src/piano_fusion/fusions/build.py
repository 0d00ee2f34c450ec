"""Build a fusion from its config."""

from __future__ import annotations

from collections.abc import Sequence

from piano_fusion.config import FusionConfig
from piano_fusion.fusions.base import Fusion
from piano_fusion.fusions.concat import ConcatFusion
from piano_fusion.fusions.cross_attention import CrossAttentionFusion
from piano_fusion.fusions.gated import GatedFusion

__all__ = ["build_fusion"]

_KINDS: dict[str, type[Fusion]] = {
    "cross_attention": CrossAttentionFusion,
    "concat": ConcatFusion,
    "gated": GatedFusion,
}


def build_fusion(cfg: FusionConfig, modalities: Sequence[str], in_dims: Sequence[int]) -> Fusion:
    """``cfg.kind`` -> F1 :class:`CrossAttentionFusion`, F2 :class:`ConcatFusion`, F3 :class:`GatedFusion`."""
    if cfg.kind not in _KINDS:
        raise ValueError(f"unknown fusion kind {cfg.kind!r}; choose one of {sorted(_KINDS)}")
    return _KINDS[cfg.kind](modalities, in_dims, cfg)
