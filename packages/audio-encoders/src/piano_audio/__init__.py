"""MuQ audio backbone for piano (presets, loading, LoRA, staged adaptation, gradual unfreezing) and
transcription.

Names are imported on first use (PEP 562), so ``import piano_audio.transcribe`` does not pay for MuQ and
transformers (about 14 CPU-s of imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piano_data.rng import preserved_rng_state

    from piano_audio.audio import load_audio
    from piano_audio.backbone import SAMPLES_PER_FRAME, MuQBackbone
    from piano_audio.config import DEFAULT_HUB_ID, MuQBackboneConfig, muq_large, muq_tiny
    from piano_audio.weights import load_backbone, muq_backbone, resolve_weights, save_backbone

_WHERE = {
    "load_audio": "piano_audio.audio",
    "SAMPLES_PER_FRAME": "piano_audio.backbone",
    "MuQBackbone": "piano_audio.backbone",
    "muq_backbone": "piano_audio.weights",
    "DEFAULT_HUB_ID": "piano_audio.config",
    "MuQBackboneConfig": "piano_audio.config",
    "muq_large": "piano_audio.config",
    "muq_tiny": "piano_audio.config",
    "preserved_rng_state": "piano_data.rng",
    "load_backbone": "piano_audio.weights",
    "resolve_weights": "piano_audio.weights",
    "save_backbone": "piano_audio.weights",
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
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'piano_audio' has no attribute {name!r}")
