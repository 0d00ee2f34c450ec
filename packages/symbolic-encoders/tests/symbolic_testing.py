"""Helpers for the symbolic-encoder tests: the real data folder (skip when absent), a stand-in piece contrast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from piano_data.contracts import EncoderOutput
from piano_data.paths import find_data_root


def data_root() -> Path | None:
    """``$PIANO_EVAL_DATA`` or ``shared/data`` beside the checkout (``None`` when absent)."""
    return find_data_root(Path(__file__).parent)


def percepiano_files(n: int = 3) -> list[Path]:
    """A few real PercePiano segment MIDIs (empty list when the data is absent)."""
    root = data_root()
    if root is None:
        return []
    return sorted((root / "percepiano" / "midi" / "all_2rounds").glob("*.mid"))[5 : 5 + n]


def pull_same_piece(
    out: EncoderOutput, groups: torch.Tensor, projection: Callable[[torch.Tensor], torch.Tensor], temperature: float
) -> torch.Tensor:
    """A :class:`~piano_data.contracts.PieceContrast` for tests (this package never imports piano_fusion):
    squared distance between the projected mean states of same-piece pairs, divided by ``temperature``."""
    w = out.mask.to(out.frames.dtype).unsqueeze(-1)
    z = projection((out.frames * w).sum(1) / w.sum(1).clamp_min(1.0))
    same = (groups[:, None] == groups[None, :]) & (groups >= 0)[:, None]
    same &= ~torch.eye(len(groups), dtype=torch.bool)
    d = ((z[:, None] - z[None, :]) ** 2).sum(-1)
    return (d[same].sum() / same.sum().clamp_min(1)) / temperature
