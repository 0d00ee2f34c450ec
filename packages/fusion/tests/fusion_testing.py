"""Test helpers: random encoder outputs and padding insertion."""

from __future__ import annotations

import torch
from piano_data.contracts import EncoderOutput


def make_output(lengths: list[int], dim: int, max_len: int | None = None) -> EncoderOutput:
    """Random frames, valid for the first ``lengths[b]`` positions of row ``b``, garbage after."""
    t = max_len or max(lengths)
    frames = torch.randn(len(lengths), t, dim)
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    return EncoderOutput(frames=frames, mask=mask)


def insert_padding(out: EncoderOutput, n_extra: int, gen: torch.Generator, fill: float | None = None) -> EncoderOutput:
    """Insert ``n_extra`` padding frames per row at random positions (random values, or ``fill``)."""
    b, t, d = out.frames.shape
    total = t + n_extra
    frames = torch.randn(b, total, d, generator=gen) * 100.0
    if fill is not None:
        frames.fill_(fill)
    mask = torch.zeros(b, total, dtype=torch.bool)
    for i in range(b):
        keep = torch.randperm(total, generator=gen)[:t].sort().values
        valid = out.mask[i]
        frames[i, keep] = torch.where(valid[:, None], out.frames[i], frames[i, keep])
        mask[i, keep] = valid
    return EncoderOutput(frames=frames, mask=mask)
