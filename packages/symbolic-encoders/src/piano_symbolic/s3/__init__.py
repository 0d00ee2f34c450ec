"""S3: continuous MIDI curves, 1D-CNN + Transformer, wav2vec 2.0-style pretraining."""

from piano_symbolic.s3.config import S3Config, s3_base, s3_quick, s3_tiny
from piano_symbolic.s3.curves import N_CHANNELS, notes_to_curves
from piano_symbolic.s3.data import S3Featurizer
from piano_symbolic.s3.model import GumbelQuantizer, S3CurveEncoder, span_mask

__all__ = [
    "N_CHANNELS",
    "GumbelQuantizer",
    "S3Config",
    "S3CurveEncoder",
    "S3Featurizer",
    "notes_to_curves",
    "s3_base",
    "s3_quick",
    "s3_tiny",
    "span_mask",
]
