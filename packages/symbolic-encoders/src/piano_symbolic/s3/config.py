"""S3 configuration and named presets."""

from __future__ import annotations

from dataclasses import dataclass

from piano_data.contracts import SYMBOLIC_DIM

__all__ = ["S3Config", "s3_base", "s3_quick", "s3_tiny"]


@dataclass(frozen=True)
class S3Config:
    """1D-CNN feature encoder + Transformer context network over curves, wav2vec 2.0-style pretraining.

    The CNN downsamples ``fps`` by ``stride`` (output frame rate ``fps / stride``). ``max_seconds`` truncates
    a
    performance (tail dropped); the Transformer attends within windows of ``max_frames`` output frames.
    Masking: each frame starts a span of ``mask_span`` frames with probability ``mask_start_prob``.
    Quantizer: ``groups`` codebooks of ``codes`` entries (Gumbel-softmax, temperature ``gumbel_tau``).
    """

    fps: float = 50.0
    stride: int = 2
    d_model: int = 384
    n_conv: int = 3
    n_layers: int = 6
    n_heads: int = 6
    d_ff: int = 1536
    dropout: float = 0.1
    max_frames: int = 768
    max_seconds: float = 60.0
    output_dim: int = SYMBOLIC_DIM
    mask_start_prob: float = 0.065
    mask_span: int = 5
    groups: int = 2
    codes: int = 64
    code_dim: int = 128
    gumbel_tau: float = 1.0
    n_distractors: int = 20
    logit_temperature: float = 0.1
    diversity_weight: float = 0.1
    contrastive_weight: float = 0.1
    temperature: float = 0.1


def s3_tiny() -> S3Config:
    """Test preset: width 32, 1 conv + 1 Transformer layer, 10 frames/s."""
    return S3Config(
        fps=10.0,
        d_model=32,
        n_conv=1,
        n_layers=1,
        n_heads=2,
        d_ff=64,
        dropout=0.0,
        max_frames=64,
        max_seconds=20.0,
        mask_start_prob=0.15,
        mask_span=2,
        groups=2,
        codes=8,
        code_dim=16,
        n_distractors=5,
    )


def s3_quick() -> S3Config:
    """2-CPU preset: width 64, 2 Transformer layers, 16 frames/s in, 8 out, first 32 s."""
    return S3Config(
        fps=16.0, d_model=64, n_conv=2, n_layers=2, n_heads=4, d_ff=128, max_frames=128, max_seconds=32.0,
        mask_start_prob=0.1, mask_span=3, codes=32, code_dim=32, n_distractors=10,
    )  # fmt: skip


def s3_base() -> S3Config:
    """Width 384, 6 Transformer layers, 50 frames/s in, 25 out (the MuQ frame rate)."""
    return S3Config()
