"""S1: Transformer over REMI tokens with BERT masked-token pretraining."""

from piano_symbolic.s1.config import S1Config, s1_base, s1_quick, s1_small, s1_tiny
from piano_symbolic.s1.data import S1Featurizer
from piano_symbolic.s1.model import S1Transformer, mask_tokens

__all__ = [
    "S1Config",
    "S1Featurizer",
    "S1Transformer",
    "mask_tokens",
    "s1_base",
    "s1_quick",
    "s1_small",
    "s1_tiny",
]
