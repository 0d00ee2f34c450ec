"""The typed preset keys of ``s4`` (torch-free: read when the experiment is built)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from piano_eval.experiments.config import TierKeys

__all__ = ["S4ExperimentConfig"]


@dataclass(frozen=True)
class S4ExperimentConfig(TierKeys):
    """The preset keys of ``s4`` (type-checked when the experiment is built; the tier keys are inherited)."""

    preset: Literal["tiny", "quick", "full"] = "quick"  # piano_symbolic.s4 preset
    encoder: dict[str, Any] = field(default_factory=dict)  # overrides of the preset's S4Config fields
    corpus_sources: list[Literal["percepiano", "asap", "giantmidi"]] = field(
        default_factory=lambda: ["percepiano", "asap", "giantmidi"]
    )
    corpus_max_per_score: int | None = 3  # performances per ASAP/GiantMIDI score (bounds the first alignment)
    window_bars: int = 8
    windows_per_score: int = 6
    pretrain_steps: int = 300
    pretrain_batch_size: int = 16
    pretrain_lr: float = 2e-3
    finetune: Literal["top", "full"] = "top"  # top: frozen body, states computed once; full: the whole encoder
    finetune_epochs: int = 40
    finetune_lr: float = 1e-3
    encoder_lr_scale: float = 0.3
    batch_size: int = 16
    patience: int = 6
    rank_weight: float = 0.1
    rank_temperature: float = 0.02
    difference_weight: float = 0.0  # same-passage rating differences (piano_fusion.pair_difference_loss)
    val_frac: float = 0.15
    head_hidden: int = 128
    head_dropout: float = 0.1
    weight_decay: float = 0.01  # AdamW (decoupled) weight decay of fine-tuning
    pool_stats: bool = False  # attentive statistics pooling: attentive mean and std of the frames (piano_fusion)
    raw_deviations: bool = False  # append each note's standardised raw deviations + status one-hot to its frame
    raw_context: bool = False  # with raw_deviations: the note's score context channels too
    note_conv: int = 0  # channels of a learned 1-D convolution over the note frames, joined to them (0: none)
    note_conv_kernel: int = 5  # notes each convolution sees (odd)
    features: bool = True  # the hand-crafted features (piano_symbolic.features), read as features_at says
    features_at: Literal["frame", "pooled"] = "frame"  # frame: one extra frame; pooled: joined after pooling
    # with features: also the features minus their mean over the performances of the passage in the same set
    passage_relative: bool = False
    learned: bool = True  # false: the ablation without the S4 encoder
    ensemble: int = 1  # models of different seeds averaged per fold
    # blend with the baseline-features MLP ensemble: w x learned + (1 - w) x MLP, w chosen on validation groups;
    # the MLPs read the features as baseline-features does (passage-relative too when passage_relative is on)
    blend_features_mlp: bool = False
    blend_mlps: int = 3  # with blend_features_mlp: MLPs of different seeds averaged (baseline-features quick: 3)
    # with blend_features_mlp: two weights, one for each passage's mean prediction over its performances in the
    # predicted set and one for each performance's departure from it (aligned_blend.blend)
    blend_split: bool = False
    # with blend_features_mlp: one weight (or pair) per rating dimension instead of one for all 19
    blend_per_dim: bool = False
    # each ensemble member early-stops on its own validation groups (disjoint slices of val_frac of the training
    # groups, so the members see different data), and the blend weight is chosen on every member's held-out slice
    val_slices: bool = False
    cache_dir: str | None = None
    checkpoint: str | None = None  # an S4 encoder checkpoint folder to start from instead of pretraining
