"""S1 inputs: REMI token ids of a performance and their padded batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from piano_data.midi import NoteArray

from piano_symbolic.tokenizer import RemiTokenizer

__all__ = ["S1Featurizer"]


class S1Featurizer:
    """Turns note arrays into token-id tensors and batches them.

    Performances longer than ``max_tokens`` are truncated (the tail is dropped; ``EOS`` is kept last).
    """

    def __init__(self, tokenizer: RemiTokenizer, max_tokens: int) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    def __call__(self, notes: NoteArray) -> torch.Tensor:
        ids = self.tokenizer.encode_notes(notes)
        if len(ids) > self.max_tokens:
            ids = [*ids[: self.max_tokens - 1], self.tokenizer.eos_id]
        return torch.tensor(ids, dtype=torch.long)

    def collate(self, items: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        """``{"ids": [B, L], "mask": [B, L]}`` right-padded with ``PAD``."""
        length = max(len(x) for x in items)
        ids = torch.full((len(items), length), self.tokenizer.pad_id, dtype=torch.long)
        mask = torch.zeros(len(items), length, dtype=torch.bool)
        for i, x in enumerate(items):
            ids[i, : len(x)] = x
            mask[i, : len(x)] = True
        return {"ids": ids, "mask": mask}
