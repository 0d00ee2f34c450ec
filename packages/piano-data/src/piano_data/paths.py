"""Locating a data root: ``$PIANO_EVAL_DATA``, else a ``shared/data`` folder beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root", "find_data_root"]


def cache_root() -> Path:
    """Where piano-eval keeps caches (renders, embeddings, pretrained encoders, the synthetic corpus):
    ``$PIANO_EVAL_CACHE``, else ``~/.cache/piano-eval``."""
    return Path(os.environ.get("PIANO_EVAL_CACHE") or Path.home() / ".cache" / "piano-eval")


def find_data_root(start: Path | None = None) -> Path | None:
    """The folder holding dataset folders (``percepiano/``, ``asap/``, ...), or ``None`` when there is none.

    Looks at ``$PIANO_EVAL_DATA`` first, then for ``shared/data`` beside any parent of ``start`` (default: the
    current directory), which is where the project's development checkout keeps the public datasets.
    """
    env = os.environ.get("PIANO_EVAL_DATA")
    if env:
        p = Path(env)
        return p if p.is_dir() else None
    here = (start or Path.cwd()).resolve()
    for parent in (here, *here.parents):
        candidate = parent / "shared" / "data"
        if (candidate / "percepiano").is_dir() or (candidate / "asap").is_dir():
            return candidate
    return None
