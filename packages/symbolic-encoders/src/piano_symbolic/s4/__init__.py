"""S4, the aligned-note encoder: one token per score note with the performer's deviations attached.

Reads a performance through :func:`piano_symbolic.aligned.align_performance` (score context: pitch, bar
position, outer voices, score duration; deviations: onset in beats of the local tempo, local tempo, IOI ratio,
velocity and relative velocities, articulation, pedal, asynchrony; status matched/missed/substituted as an
embedding), runs a small Transformer or GRU and returns :class:`~piano_data.contracts.EncoderOutput` frames.
Pretrained by masked deviation prediction and a cross-performer contrast of the same bars (:mod:`.pretrain`).
"""

from piano_symbolic.s4.checkpoint import load_s4, save_s4
from piano_symbolic.s4.config import S4Config, s4_full, s4_quick, s4_tiny
from piano_symbolic.s4.corpus import SOURCES, CorpusPair, Window, bar_windows, corpus_pairs, load_aligned_corpus
from piano_symbolic.s4.model import S4Encoder, collate_tokens, s4_encoder
from piano_symbolic.s4.pretrain import PretrainSpec, build_windows, pretrain_s4
from piano_symbolic.s4.tokens import (
    CONTEXT_FEATURES,
    DEVIATION_FEATURES,
    N_STATUS,
    TARGETS,
    NoteTokens,
    tokens_from_aligned,
)

__all__ = [
    "CONTEXT_FEATURES",
    "DEVIATION_FEATURES",
    "N_STATUS",
    "SOURCES",
    "TARGETS",
    "CorpusPair",
    "NoteTokens",
    "PretrainSpec",
    "S4Config",
    "S4Encoder",
    "Window",
    "bar_windows",
    "build_windows",
    "collate_tokens",
    "corpus_pairs",
    "load_aligned_corpus",
    "load_s4",
    "pretrain_s4",
    "s4_encoder",
    "s4_full",
    "s4_quick",
    "s4_tiny",
    "save_s4",
    "tokens_from_aligned",
]
