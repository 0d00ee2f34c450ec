"""S3 inputs: curve tensors and their padded batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from piano_data.midi import NoteArray

from piano_symbolic.s3.curves import notes_to_curves

__all__ = ["S3Featurizer"]


class S3Featurizer:
    """Curves of the first ``max_seconds`` of a performance at ``fps`` frames per second."""

    def __init__(self, fps: float, max_seconds: float) -> None:
        self.fps = fps
        self.max_seconds = max_seconds

    def __call__(self, notes: NoteArray) -> torch.Tensor:
        return torch.from_numpy(notes_to_curves(notes, self.fps, self.max_seconds))

    def collate(self, items: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        """``{"curves": [B, T, 265], "mask": [B, T]}`` right-padded with zeros."""
        length = max(len(x) for x in items)
        curves = torch.zeros(len(items), length, items[0].shape[1])
        mask = torch.zeros(len(items), length, dtype=torch.bool)
        for i, x in enumerate(items):
            curves[i, : len(x)] = x
            mask[i, : len(x)] = True
        return {"curves": curves, "mask": mask}
