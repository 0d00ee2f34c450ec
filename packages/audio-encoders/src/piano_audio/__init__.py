"""MuQ audio backbone for piano (presets, loading, LoRA, staged adaptation, gradual unfreezing) and
transcription.

Names are imported on first use (PEP 562), so ``import piano_audio.transcribe`` does not pay for MuQ and
transformers (about 14 CPU-s of imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piano_audio.audio import load_audio
    from piano_audio.backbone import SAMPLES_PER_FRAME, MuQBackbone, muq_backbone
    from piano_audio.config import DEFAULT_HUB_ID, MuQBackboneConfig, muq_large, muq_tiny
    from piano_audio.rng import preserved_rng_state
    from piano_audio.weights import load_backbone, resolve_weights, save_backbone

_WHERE = {
    "load_audio": "audio",
    "SAMPLES_PER_FRAME": "backbone",
    "MuQBackbone": "backbone",
    "muq_backbone": "backbone",
    "DEFAULT_HUB_ID": "config",
    "MuQBackboneConfig": "config",
    "muq_large": "config",
    "muq_tiny": "config",
    "preserved_rng_state": "rng",
    "load_backbone": "weights",
    "resolve_weights": "weights",
    "save_backbone": "weights",
}

__all__ = [
    "DEFAULT_HUB_ID",
    "SAMPLES_PER_FRAME",
    "MuQBackbone",
    "MuQBackboneConfig",
    "load_audio",
    "load_backbone",
    "muq_backbone",
    "muq_large",
    "muq_tiny",
    "preserved_rng_state",
    "resolve_weights",
    "save_backbone",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"piano_audio.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'piano_audio' has no attribute {name!r}")
