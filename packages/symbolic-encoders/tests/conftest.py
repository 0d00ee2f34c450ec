"""Shared fixtures for the symbolic-encoder tests: seeding and the real data folder."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from piano_data.paths import find_data_root


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def data_root() -> Path | None:
    """``$PIANO_EVAL_DATA`` or ``shared/data`` beside the checkout (``None`` when absent)."""
    return find_data_root(Path(__file__).parent)


def percepiano_files(n: int = 3) -> list[Path]:
    """A few real PercePiano segment MIDIs (empty list when the data is absent)."""
    root = data_root()
    if root is None:
        return []
    return sorted((root / "percepiano" / "midi" / "all_2rounds").glob("*.mid"))[5 : 5 + n]
