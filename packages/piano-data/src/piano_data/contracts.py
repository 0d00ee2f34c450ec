"""Contracts every package speaks: the 19 PercePiano dimensions, encoder outputs, the encoder protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

#: The 19 PercePiano perceptual dimensions, in label order (``LABEL_LIST19`` of the upstream code).
DIMENSIONS: tuple[str, ...] = (
    "Timing_Stable_Unstable",
    "Articulation_Long_Short",
    "Articulation_Soft_cushioned_Hard_solid",
    "Pedal_Sparse/dry_Saturated/wet",
    "Pedal_Clean_Blurred",
    "Timbre_Even_Colorful",
    "Timbre_Shallow_Rich",
    "Timbre_Bright_Dark",
    "Timbre_Soft_Loud",
    "Dynamic_Sophisticated/mellow_Raw/crude",
    "Dynamic_Little_dynamic_range_Large_dynamic_range",
    "Music_Making_Fast_paced_Slow_paced",
    "Music_Making_Flat_Spacious",
    "Music_Making_Disproportioned_Balanced",
    "Music_Making_Pure_Dramatic/expressive",
    "Emotion_&_Mood_Optimistic/pleasant_Dark",
    "Emotion_&_Mood_Low_Energy_High_Energy",
    "Emotion_&_Mood_Honest_Imaginative",
    "Interpretation_Unsatisfactory/doubtful_Convincing",
)
N_DIMS: int = len(DIMENSIONS)

#: Frame rate of the MuQ audio encoder (frames per second).
MUQ_FRAME_RATE: int = 25
#: Width of the concatenated MuQ layers 9-12.
MUQ_DIM: int = 4096
#: Width of every symbolic encoder's output.
SYMBOLIC_DIM: int = 512
#: Sample rate every audio path works at.
SAMPLE_RATE: int = 24_000


@dataclass(frozen=True)
class EncoderOutput:
    """Frame or token embeddings of a batch with their validity mask.

    ``frames`` is ``[B, T, D]``; ``mask`` is ``[B, T]`` boolean, ``True`` where a frame is real and ``False`` on
    padding. Encoders stop here; pooling and heads live in ``piano_fusion``.
    """

    frames: torch.Tensor
    mask: torch.Tensor

    def __post_init__(self) -> None:
        if self.frames.dim() != 3:
            raise ValueError(f"EncoderOutput.frames must be [B, T, D], got shape {tuple(self.frames.shape)}")
        if self.mask.shape != self.frames.shape[:2]:
            raise ValueError(
                f"EncoderOutput.mask must be [B, T] = {tuple(self.frames.shape[:2])}, got {tuple(self.mask.shape)}"
            )
        if self.mask.dtype != torch.bool:
            raise ValueError(f"EncoderOutput.mask must be torch.bool, got {self.mask.dtype}")

    @property
    def dim(self) -> int:
        return int(self.frames.shape[-1])

    @property
    def batch_size(self) -> int:
        return int(self.frames.shape[0])


@runtime_checkable
class SequenceEncoder(Protocol):
    """Anything that turns a batch into an :class:`EncoderOutput` of width ``output_dim``."""

    output_dim: int

    def __call__(self, *args: object, **kwargs: object) -> EncoderOutput: ...


class PieceContrast(Protocol):
    """A same-piece contrastive term on an encoder's states, handed to an encoder's ``pretraining_loss``.

    ``(out, groups [B] (-1 = unknown piece), projection, temperature) -> scalar``: pools ``out``, applies the
    encoder's ``projection`` head and contrasts samples of the same piece against the others. Encoders take it
    as an argument so that the loss itself has one owner (``piano_fusion.piece_contrast``).
    """

    def __call__(
        self,
        out: EncoderOutput,
        groups: torch.Tensor,
        projection: Callable[[torch.Tensor], torch.Tensor],
        temperature: float,
    ) -> torch.Tensor: ...
