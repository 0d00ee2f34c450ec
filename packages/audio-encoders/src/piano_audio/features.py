"""Frozen MuQ feature extraction into the shared embedding cache (``piano_data.cache.EmbeddingCache``).

Each audio file is encoded once; its frames ``[T, D]`` (float16 by default) or its mean-pooled vector ``[D]``
are stored under a key made of the file's content hash, the encoder id/revision and the layers. A run that is
interrupted resumes where it stopped: entries already in the cache are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from piano_data.cache import CacheKey, EmbeddingCache
from piano_data.errors import PianoDataError
from piano_data.progress import progress_disabled
from tqdm.auto import tqdm

from piano_audio.backbone import MuQBackbone

__all__ = ["ExtractReport", "backbone_id", "extract_to_cache", "feature_key"]


@dataclass
class ExtractReport:
    """What :func:`extract_to_cache` did."""

    computed: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0


def backbone_id(backbone: MuQBackbone, weights: str | None = None) -> tuple[str, str]:
    """``(encoder_id, revision)``: the weights' name, or the random preset's architecture hash."""
    arch = hashlib.sha256(json.dumps(backbone.config.muq_config(), sort_keys=True).encode()).hexdigest()[:12]
    if weights:
        return f"muq:{os.path.basename(os.path.normpath(weights))}", arch
    return f"muq-random-{backbone.config.encoder_depth}x{backbone.config.encoder_dim}", arch


def feature_key(
    path: str | os.PathLike[str],
    backbone: MuQBackbone,
    *,
    weights: str | None = None,
    pooled: bool = False,
    augmentation_id: str = "none",
) -> CacheKey:
    encoder_id, revision = backbone_id(backbone, weights)
    layers = "-".join(str(i) for i in backbone.config.layers) + (":mean" if pooled else ":frames")
    return CacheKey.for_file(
        path, encoder_id, encoder_revision=revision, layer_spec=layers, augmentation_id=augmentation_id
    )


def extract_to_cache(
    backbone: MuQBackbone,
    paths: Sequence[str | os.PathLike[str]],
    cache: EmbeddingCache,
    *,
    weights: str | None = None,
    pooled: bool = False,
    dtype: Literal["float16", "float32"] = "float16",
    progress: bool = True,
    strict: bool = False,
) -> tuple[list[CacheKey | None], ExtractReport]:
    """Encode every file not yet cached; returns one key per path (``None`` where the file failed)."""
    import time

    start = time.perf_counter()
    report = ExtractReport()
    keys: list[CacheKey | None] = []
    backbone.eval()
    for path in tqdm(paths, desc="embed", disable=progress_disabled(progress)):
        try:
            key = feature_key(path, backbone, weights=weights, pooled=pooled)
            if key in cache:
                report.cached += 1
                keys.append(key)
                continue
            out = backbone.encode(path)
        except PianoDataError as exc:
            if strict:
                raise
            report.failed.append((str(path), str(exc)))
            keys.append(None)
            continue
        frames = out.frames[0][out.mask[0]]
        arr = frames.mean(0) if pooled else frames
        with torch.no_grad():
            cache.put(key, arr.float().cpu().numpy().astype(np.dtype(dtype)))
        report.computed += 1
        report.audio_seconds += frames.shape[0] / 25.0
        keys.append(key)
    report.wall_seconds = time.perf_counter() - start
    return keys, report
