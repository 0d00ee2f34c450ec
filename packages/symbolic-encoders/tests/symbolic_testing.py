"""Helpers for the symbolic-encoder tests: the real data folder (skip when absent)."""

from __future__ import annotations

from pathlib import Path

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
