"""Building, saving and loading MuQ backbones: :func:`muq_backbone` (random from a config, or from weights) and
a local directory in the hub layout (``config.json`` + ``model.safetensors``).

The layout is the one ``huggingface-cli download OpenMuQ/MuQ-large-msd-iter --local-dir DIR`` produces, so a
downloaded model and one saved here load the same way. Nothing is ever downloaded unless asked for explicitly.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from piano_data.atomic import atomic_dir
from piano_data.errors import PianoDataError, read_json

from piano_audio.backbone import MuQBackbone
from piano_audio.config import DEFAULT_HUB_ID, MuQBackboneConfig

__all__ = ["load_backbone", "muq_backbone", "resolve_weights", "save_backbone"]

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _how_to_provide(name: str) -> str:
    return (
        f"MuQ weights '{name}' are not available on this machine and downloads are off. "
        "Fetch them where there is "
        f"network (`huggingface-cli download {DEFAULT_HUB_ID} --local-dir DIR`), copy DIR here and pass it "
        "(`--muq-weights DIR`, or muq_backbone(weights='DIR'))"
    )


def resolve_weights(weights: str | os.PathLike[str], *, allow_download: bool = False) -> Path:
    """The local directory holding ``weights``: the path itself, or a hub id's snapshot in the local HF
    cache."""
    path = Path(weights).expanduser()
    if path.exists():
        if not path.is_dir():
            raise PianoDataError(path, "MuQ weights must be a directory holding config.json and model.safetensors")
        return path
    name = str(weights)
    if not _HUB_ID.match(name):
        raise PianoDataError(path, "MuQ weights directory not found")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=not allow_download))
    except Exception:  # offline, not cached, unknown repo: one message saying what to do
        raise PianoDataError(None, _how_to_provide(name)) from None


def _read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    for fname in _WEIGHT_FILES:
        f = folder / fname
        if f.is_file():
            try:
                if fname.endswith(".safetensors"):
                    from safetensors.torch import load_file

                    return load_file(str(f))
                return torch.load(f, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise PianoDataError(f, f"unreadable checkpoint ({str(exc).splitlines()[0]})") from None
    raise PianoDataError(folder, f"no MuQ checkpoint here (expected one of {', '.join(_WEIGHT_FILES)})")


def _check_shapes(model: torch.nn.Module, state: dict[str, torch.Tensor], where: Path) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    wrong = [
        (k, tuple(state[k].shape), tuple(v.shape)) for k, v in own.items() if k in state and state[k].shape != v.shape
    ]
    if wrong:
        k, got, want = wrong[0]
        raise PianoDataError(
            where,
            f"checkpoint does not fit the config: {len(wrong)} tensors differ, e.g. {k} is {got}, expected {want}",
        )
    if missing:
        raise PianoDataError(where, f"checkpoint lacks {len(missing)} tensors of the model, e.g. {missing[0]}")


def load_backbone(
    weights: str | os.PathLike[str],
    *,
    config: MuQBackboneConfig | None = None,
    layers: tuple[int, ...] | None = None,
    allow_download: bool = False,
    map_location: str | torch.device = "cpu",
) -> MuQBackbone:
    """Load a backbone from a local directory or hub id (see :func:`resolve_weights`)."""
    folder = resolve_weights(weights, allow_download=allow_download)
    cfg_file = folder / "config.json"
    if not cfg_file.is_file():
        raise PianoDataError(folder, "no config.json: not a MuQ weights directory")
    raw: dict[str, Any] = read_json(cfg_file, "invalid JSON")
    extraction: dict[str, Any] = dict(raw.pop("piano_audio", {}) or {})
    if config is not None:
        extraction.update({k: getattr(config, k) for k in ("layers", "chunk_seconds", "min_seconds", "max_seconds")})
    if layers is not None:
        extraction["layers"] = tuple(layers)
    if "layers" in extraction:
        extraction["layers"] = tuple(extraction["layers"])
    try:
        cfg = MuQBackboneConfig.from_muq_config(raw, **extraction)
    except (TypeError, ValueError) as exc:
        raise PianoDataError(cfg_file, f"config does not describe a usable MuQ ({exc})") from None
    backbone = MuQBackbone(cfg)  # random weights (caller's RNG state preserved), replaced below
    state = _read_state_dict(folder)
    _check_shapes(backbone.muq, state, folder)
    backbone.muq.load_state_dict(state, strict=False)
    return backbone.to(map_location)


def save_backbone(backbone: MuQBackbone, folder: str | os.PathLike[str]) -> Path:
    """Write ``config.json`` + ``model.safetensors`` as ``folder``, replacing it whole and atomically (a temp dir
    swapped into place by :func:`piano_data.atomic.atomic_dir`: nothing of an older ``folder`` is kept)."""
    from safetensors.torch import save_file

    out = Path(folder)
    cfg = backbone.config
    payload = cfg.muq_config()
    payload["piano_audio"] = {
        k: v for k, v in asdict(cfg).items() if k in ("layers", "chunk_seconds", "min_seconds", "max_seconds")
    }
    # base weights only: LoRA adapters are saved on their own (piano_audio.lora.save_lora)
    state = {
        k.replace(".base_layer.", "."): v.detach().cpu().contiguous()
        for k, v in backbone.muq.state_dict().items()
        if "lora_" not in k
    }
    with atomic_dir(out) as tmp:
        (tmp / "config.json").write_text(json.dumps(payload, indent=2))
        save_file(state, str(tmp / "model.safetensors"))
    return out


def muq_backbone(
    config: MuQBackboneConfig | None = None,
    weights: str | None = None,
    *,
    allow_download: bool = False,
    layers: tuple[int, ...] | None = None,
) -> MuQBackbone:
    """Build a backbone: from ``weights`` (a local directory or a hub id) when given, else random from
    ``config``.

    With ``weights`` the architecture comes from the weights' ``config.json`` (``config`` then only supplies
    the
    extraction settings: layers, chunking). Hub ids resolve from the local Hugging Face cache only, unless
    ``allow_download``; missing weights raise one :class:`PianoDataError` saying how to provide them.
    """
    if weights is None:
        cfg = config or MuQBackboneConfig()
        return MuQBackbone(cfg.with_layers(layers) if layers else cfg)
    return load_backbone(weights, config=config, layers=layers, allow_download=allow_download)
