"""S4 encoder checkpoints: ``encoder.safetensors`` (weights) + ``encoder.json`` (config and metadata), no pickle."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from piano_data.atomic import write_text_atomic
from piano_data.errors import PianoDataError
from piano_data.weights import load_state, save_state

from piano_symbolic.s4.config import S4Config
from piano_symbolic.s4.model import S4Encoder

__all__ = ["load_s4", "save_s4"]

WEIGHTS = "encoder.safetensors"
META = "encoder.json"


def save_s4(directory: Path, encoder: S4Encoder, extra: dict[str, Any] | None = None) -> Path:
    """Write the encoder's weights and config into ``directory`` (temporary names renamed into place, the
    JSON last: a checkpoint exists when its JSON does)."""
    directory.mkdir(parents=True, exist_ok=True)
    save_state(directory / WEIGHTS, encoder)
    meta = {"format": "piano_symbolic.s4/1", "config": asdict(encoder.cfg), "extra": extra or {}}
    write_text_atomic(directory / META, json.dumps(meta, indent=1, default=str))
    return directory


def load_s4(directory: Path) -> tuple[S4Encoder, dict[str, Any]]:
    """Read a checkpoint :func:`save_s4` wrote; a missing or malformed file raises :class:`PianoDataError`."""
    meta_path, weights = directory / META, directory / WEIGHTS
    if not meta_path.is_file() or not weights.is_file():
        raise PianoDataError(directory, f"not an S4 checkpoint ({META} and {WEIGHTS} expected)")
    try:
        meta = json.loads(meta_path.read_text())
        known = {f.name for f in fields(S4Config)}
        cfg = S4Config(**{k: v for k, v in meta["config"].items() if k in known})
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise PianoDataError(meta_path, f"unreadable S4 checkpoint metadata ({exc})") from None
    encoder = load_state(weights, S4Encoder(cfg))  # keys and shapes checked; eval mode
    return encoder, dict(meta.get("extra", {}))
