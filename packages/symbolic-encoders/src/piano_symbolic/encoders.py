"""One entry point for the three symbolic encoders: build a model and its featurizer by kind and preset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

from piano_symbolic.s1 import S1Config, S1Featurizer, S1Transformer, s1_base, s1_quick, s1_small, s1_tiny
from piano_symbolic.s2 import S2Config, S2Featurizer, S2GraphEncoder, s2_base, s2_quick, s2_tiny
from piano_symbolic.s3 import S3Config, S3CurveEncoder, S3Featurizer, s3_base, s3_quick, s3_tiny
from piano_symbolic.tokenizer import RemiTokenizer

__all__ = ["PRESETS", "EncoderKind", "SymbolicBundle", "build_encoder", "preset_config"]

EncoderKind = Literal["s1", "s2", "s3"]

PRESETS: dict[str, dict[str, Any]] = {
    "s1": {"tiny": s1_tiny, "quick": s1_quick, "small": s1_small, "base": s1_base},
    "s2": {"tiny": s2_tiny, "quick": s2_quick, "base": s2_base},
    "s3": {"tiny": s3_tiny, "quick": s3_quick, "base": s3_base},
}
_CONFIGS = {"s1": S1Config, "s2": S2Config, "s3": S3Config}


@dataclass
class SymbolicBundle:
    """A model with the featurizer that turns :class:`~piano_data.midi.NoteArray` into its inputs.

    ``featurizer(notes)`` gives one item, ``featurizer.collate(items)`` a batch dict for ``model(batch)`` and
    ``model.pretraining_loss(batch)``. ``tokenizer`` is set for S1 only.
    """

    kind: EncoderKind
    model: nn.Module
    featurizer: Any
    tokenizer: RemiTokenizer | None = None


def preset_config(kind: EncoderKind, preset: str, tokenizer: RemiTokenizer | None = None) -> Any:
    """The named preset config of ``kind`` (S1 presets take the tokenizer's vocabulary size)."""
    try:
        make = PRESETS[kind][preset]
    except KeyError:
        raise ValueError(f"unknown preset {kind}/{preset}; known: {sorted(PRESETS.get(kind, {}))}") from None
    if kind == "s1":
        return make((tokenizer or RemiTokenizer()).vocab_size)
    return make()


def config_from_dict(kind: EncoderKind, values: dict[str, Any]) -> Any:
    return _CONFIGS[kind](**values)


def build_encoder(kind: EncoderKind, cfg: Any, tokenizer: RemiTokenizer | None = None) -> SymbolicBundle:
    """Model + featurizer for ``kind`` with config ``cfg`` (fresh random weights)."""
    if kind == "s1":
        tok = tokenizer or RemiTokenizer()
        if cfg.vocab_size != tok.vocab_size:
            raise ValueError(f"S1 config vocab_size {cfg.vocab_size} != tokenizer vocabulary {tok.vocab_size}")
        model = S1Transformer(cfg, mask_id=tok.mask_id, special_ids=tok.special_ids)
        return SymbolicBundle("s1", model, S1Featurizer(tok, cfg.max_tokens), tok)
    if kind == "s2":
        return SymbolicBundle("s2", S2GraphEncoder(cfg), S2Featurizer(cfg.max_nodes, cfg.chord_tol))
    if kind == "s3":
        return SymbolicBundle("s3", S3CurveEncoder(cfg), S3Featurizer(cfg.fps, cfg.max_seconds))
    raise ValueError(f"unknown symbolic encoder kind {kind!r} (expected s1, s2 or s3)")
