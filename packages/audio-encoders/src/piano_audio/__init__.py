"""MuQ audio backbone for piano (presets, loading, LoRA, staged adaptation, gradual unfreezing) and
transcription."""

from piano_data.rng import preserved_rng_state

from piano_audio.audio import load_audio
from piano_audio.backbone import SAMPLES_PER_FRAME, MuQBackbone
from piano_audio.config import DEFAULT_HUB_ID, MuQBackboneConfig, muq_large, muq_tiny
from piano_audio.weights import load_backbone, muq_backbone, resolve_weights, save_backbone

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
