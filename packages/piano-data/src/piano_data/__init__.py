"""piano_data.

The names below are re-exported lazily (PEP 562 module ``__getattr__``): ``import piano_data`` loads nothing
heavy, and ``piano_data.X`` imports X's module (torch for the datasets) on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real names, for type checkers and editors
    from piano_data.atomic import atomic_dir, atomic_path, replaced_dirs, write_bytes_atomic, write_text_atomic
    from piano_data.audio_io import check_clip, content_hash, load_audio
    from piano_data.augment import AUGMENTATIONS, Applied, AudioAugmentor, AugmentConfig, augmentation_id
    from piano_data.cache import CacheKey, EmbeddingCache
    from piano_data.datasets import (
        AudioFeatures,
        CachedFeatures,
        ClipDataset,
        LabelledDataset,
        TierMixer,
        collate_tiers,
    )
    from piano_data.render import RenderConfig, RenderReport, render_all, render_clips, render_midi, render_segments
    from piano_data.soundfonts import Soundfont, available_soundfonts, find_soundfont
    from piano_data.tiers import (
        Clip,
        ClipConfig,
        CompetitionRecording,
        OrdinalPair,
        Performance,
        PieceIndex,
        SamePiecePairSampler,
        load_asap,
        load_atepp,
        load_competition_manifest,
        load_folder,
        load_maestro,
        ordinal_pairs,
        segment_unlabelled,
        summarize_tiers,
    )

# Tiers T2-T4, rendering, augmentation, embedding cache, datasets (issue 3): name -> module that defines it
_LAZY: dict[str, str] = {
    "AUGMENTATIONS": "piano_data.augment",
    "Applied": "piano_data.augment",
    "AudioAugmentor": "piano_data.augment",
    "AudioFeatures": "piano_data.datasets",
    "AugmentConfig": "piano_data.augment",
    "CacheKey": "piano_data.cache",
    "CachedFeatures": "piano_data.datasets",
    "Clip": "piano_data.tiers",
    "ClipConfig": "piano_data.tiers",
    "ClipDataset": "piano_data.datasets",
    "CompetitionRecording": "piano_data.tiers",
    "EmbeddingCache": "piano_data.cache",
    "LabelledDataset": "piano_data.datasets",
    "OrdinalPair": "piano_data.tiers",
    "Performance": "piano_data.tiers",
    "PieceIndex": "piano_data.tiers",
    "RenderConfig": "piano_data.render",
    "RenderReport": "piano_data.render",
    "SamePiecePairSampler": "piano_data.tiers",
    "Soundfont": "piano_data.soundfonts",
    "TierMixer": "piano_data.datasets",
    "atomic_dir": "piano_data.atomic",
    "atomic_path": "piano_data.atomic",
    "augmentation_id": "piano_data.augment",
    "available_soundfonts": "piano_data.soundfonts",
    "check_clip": "piano_data.audio_io",
    "collate_tiers": "piano_data.datasets",
    "content_hash": "piano_data.audio_io",
    "find_soundfont": "piano_data.soundfonts",
    "load_asap": "piano_data.tiers",
    "load_atepp": "piano_data.tiers",
    "load_audio": "piano_data.audio_io",
    "load_competition_manifest": "piano_data.tiers",
    "load_folder": "piano_data.tiers",
    "load_maestro": "piano_data.tiers",
    "ordinal_pairs": "piano_data.tiers",
    "render_all": "piano_data.render",
    "render_clips": "piano_data.render",
    "render_midi": "piano_data.render",
    "render_segments": "piano_data.render",
    "replaced_dirs": "piano_data.atomic",
    "segment_unlabelled": "piano_data.tiers",
    "summarize_tiers": "piano_data.tiers",
    "write_bytes_atomic": "piano_data.atomic",
    "write_text_atomic": "piano_data.atomic",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'piano_data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "AUGMENTATIONS",
    "Applied",
    "AudioAugmentor",
    "AudioFeatures",
    "AugmentConfig",
    "CacheKey",
    "CachedFeatures",
    "Clip",
    "ClipConfig",
    "ClipDataset",
    "CompetitionRecording",
    "EmbeddingCache",
    "LabelledDataset",
    "OrdinalPair",
    "Performance",
    "PieceIndex",
    "RenderConfig",
    "RenderReport",
    "SamePiecePairSampler",
    "Soundfont",
    "TierMixer",
    "atomic_dir",
    "atomic_path",
    "augmentation_id",
    "available_soundfonts",
    "check_clip",
    "collate_tiers",
    "content_hash",
    "find_soundfont",
    "load_asap",
    "load_atepp",
    "load_audio",
    "load_competition_manifest",
    "load_folder",
    "load_maestro",
    "ordinal_pairs",
    "render_all",
    "render_clips",
    "render_midi",
    "render_segments",
    "replaced_dirs",
    "segment_unlabelled",
    "summarize_tiers",
    "write_bytes_atomic",
    "write_text_atomic",
]
