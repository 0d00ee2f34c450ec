"""Save and load symbolic encoder checkpoints in a local directory.

Layout: ``config.json`` (kind, model config, tokenizer fingerprint, free-form ``extra``),
``model.safetensors`` (the state dict, via :mod:`piano_data.weights`: no pickle) and, for S1,
``tokenizer.json`` saved alongside. Writes go to a temporary sibling directory swapped into place by
:func:`piano_data.atomic.atomic_dir`, so a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from os import PathLike
from pathlib import Path
from typing import Any

from piano_data.atomic import atomic_dir
from piano_data.errors import PianoDataError
from piano_data.weights import load_state, save_state

from piano_symbolic.encoders import EncoderKind, SymbolicBundle, build_encoder, config_from_dict
from piano_symbolic.tokenizer import TOKENIZER_FILE, RemiTokenizer

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "load_encoder_checkpoint", "save_encoder_checkpoint"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_encoder_checkpoint(
    directory: str | PathLike[str], bundle: SymbolicBundle, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``bundle`` (model weights, config and tokenizer) to ``directory`` atomically; returns it."""
    out = Path(directory)
    cfg: Any = bundle.model.cfg
    meta = {
        "kind": bundle.kind,
        "config": asdict(cfg),
        "tokenizer_fingerprint": bundle.tokenizer.fingerprint() if bundle.tokenizer else None,
        "extra": extra or {},
    }
    with atomic_dir(out) as tmp:  # unique temporary and aside names: writers may race
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=1, default=str))
        save_state(tmp / WEIGHTS_FILE, bundle.model)
        if bundle.tokenizer is not None:
            bundle.tokenizer.save(tmp)
    return out


def load_encoder_checkpoint(
    directory: str | PathLike[str], tokenizer: RemiTokenizer | None = None
) -> tuple[SymbolicBundle, dict[str, Any]]:
    """Load a checkpoint written by :func:`save_encoder_checkpoint` -> (bundle, its ``extra`` dict).

    Passing ``tokenizer`` checks it against the tokenizer saved with the checkpoint and raises
    :class:`PianoDataError` when they differ (token ids would mean different things).
    """
    d = Path(directory)
    cfg_path = d / CONFIG_FILE
    if not cfg_path.is_file() or not (d / WEIGHTS_FILE).is_file():
        raise PianoDataError(d, f"not a symbolic encoder checkpoint (needs {CONFIG_FILE} and {WEIGHTS_FILE})")
    try:
        meta = json.loads(cfg_path.read_text())
        kind: EncoderKind = meta["kind"]
        values = dict(meta["config"])
    except (KeyError, ValueError) as exc:
        raise PianoDataError(cfg_path, f"unreadable checkpoint config ({exc})") from None
    if kind not in ("s1", "s2", "s3"):
        raise PianoDataError(cfg_path, f"unknown encoder kind {kind!r} (expected s1, s2 or s3)")
    saved_tok = None
    if kind == "s1":
        saved_tok = RemiTokenizer.load(d / TOKENIZER_FILE)
        if tokenizer is not None and tokenizer.fingerprint() != saved_tok.fingerprint():
            raise PianoDataError(
                d,
                f"checkpoint was trained with tokenizer {saved_tok.fingerprint()} ({saved_tok.spec}) "
                f"but the given tokenizer is {tokenizer.fingerprint()} ({tokenizer.spec}); "
                "token ids would not match",
            )
    for key in ("pitch_range",):
        if key in values and isinstance(values[key], list):
            values[key] = tuple(values[key])
    try:
        cfg = config_from_dict(kind, values)
    except TypeError as exc:
        raise PianoDataError(cfg_path, f"config does not match this version's {kind} config ({exc})") from None
    try:
        bundle = build_encoder(kind, cfg, saved_tok)
    except (TypeError, ValueError) as exc:
        raise PianoDataError(cfg_path, f"config does not build a {kind} encoder ({exc})") from None
    load_state(d / WEIGHTS_FILE, bundle.model)  # keys and shapes checked: a mismatch names the file
    bundle.model.train()  # as built: callers fine-tune or call eval() themselves
    return bundle, dict(meta.get("extra", {}))
