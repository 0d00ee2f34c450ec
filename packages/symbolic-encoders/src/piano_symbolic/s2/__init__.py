"""S2: GNN over the note graph (link prediction + masked velocity/timing pretraining)."""

from piano_symbolic.s2.config import S2Config, s2_base, s2_quick, s2_tiny
from piano_symbolic.s2.data import S2Featurizer
from piano_symbolic.s2.graph import EDGE_TYPES, build_note_graph, canonical_order, estimate_voices
from piano_symbolic.s2.model import S2GraphEncoder

__all__ = [
    "EDGE_TYPES",
    "S2Config",
    "S2Featurizer",
    "S2GraphEncoder",
    "build_note_graph",
    "canonical_order",
    "estimate_voices",
    "s2_base",
    "s2_quick",
    "s2_tiny",
]
