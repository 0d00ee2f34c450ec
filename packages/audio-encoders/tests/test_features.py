from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from audio_testing import tone
from piano_audio import MuQBackbone
from piano_audio.features import extract_to_cache
from piano_data.cache import EmbeddingCache


def test_extraction_is_cached_and_resumable(tiny: MuQBackbone, tmp_path: Path) -> None:
    files = []
    for i, seconds in enumerate((1.0, 2.0)):
        files.append(tmp_path / f"a{i}.wav")
        sf.write(files[-1], tone(seconds, freq=200 + 50 * i), 24_000)
    (tmp_path / "silent.wav").parent.mkdir(exist_ok=True)
    sf.write(tmp_path / "silent.wav", np.zeros(24_000, dtype=np.float32), 24_000)
    cache = EmbeddingCache(tmp_path / "cache")
    keys, report = extract_to_cache(tiny, [*files, tmp_path / "silent.wav"], cache, progress=False)
    assert (report.computed, report.cached, len(report.failed)) == (2, 0, 1)
    assert "silent" in report.failed[0][1] and keys[2] is None
    frames = cache.get(keys[1])
    assert frames is not None and frames.shape == (50, tiny.output_dim) and frames.dtype == np.float16
    # a second run computes nothing
    _, again = extract_to_cache(tiny, files, cache, progress=False)
    assert (again.computed, again.cached) == (0, 2)
    pooled_keys, _ = extract_to_cache(tiny, files[:1], cache, pooled=True, progress=False)
    assert cache.get(pooled_keys[0]).shape == (tiny.output_dim,)
