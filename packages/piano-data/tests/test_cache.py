from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pytest
from piano_data.cache import CacheKey, EmbeddingCache


def _key(i: int, **kw: str) -> CacheKey:
    return CacheKey(f"hash{i:04d}", "muq", **kw)


def _array(i: int) -> np.ndarray:
    return np.random.default_rng(i).standard_normal((10 + i % 7, 16)).astype(np.float32)


def test_digest_is_stable_and_depends_on_every_field() -> None:
    base = CacheKey("abc", "muq-large", "r1", "9-12", "none")
    assert base.digest() == "2e2c396c40f2fc667cbc929bd2e6396c"  # pinned: cache files survive upgrades
    variants = [
        CacheKey("abd", "muq-large", "r1", "9-12", "none"),
        CacheKey("abc", "muq-base", "r1", "9-12", "none"),
        CacheKey("abc", "muq-large", "r2", "9-12", "none"),
        CacheKey("abc", "muq-large", "r1", "12", "none"),
        CacheKey("abc", "muq-large", "r1", "9-12", "noise-1234"),
    ]
    assert len({v.digest() for v in variants} | {base.digest()}) == 6


def test_put_get_roundtrip_memmapped(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    key = _key(1)
    assert cache.get(key) is None and key not in cache
    cache.put(key, _array(1))
    got = cache.get(key)
    assert isinstance(got, np.memmap) and not got.flags.writeable
    np.testing.assert_array_equal(got, _array(1))
    assert key in cache and len(cache) == 1 and cache.keys() == [key]
    assert cache.path_for(key).parent.name == key.digest()[:2]  # sharded by digest prefix
    with pytest.raises(TypeError):
        cache.put(_key(2), np.array([object()]))


def test_for_file_hashes_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    assert CacheKey.for_file(a, "enc") == CacheKey.for_file(b, "enc")


def _writer(root: str, worker: int, n: int) -> int:
    cache = EmbeddingCache(root)
    for j in range(n):
        i = (worker * 7 + j) % 25  # overlapping keys across workers
        cache.put(_key(i), _array(i))
        got = cache.get(_key((i + 3) % 25))
        if got is not None:
            assert np.array_equal(got, _array((i + 3) % 25))
    return n


def test_concurrent_writers(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    with ctx.Pool(4) as pool:
        done = pool.starmap(_writer, [(str(tmp_path), w, 20) for w in range(4)])
    assert sum(done) == 80
    cache = EmbeddingCache(tmp_path)
    written = {(w * 7 + j) % 25 for w in range(4) for j in range(20)}
    assert len(cache) == len(written)
    for i in written:
        np.testing.assert_array_equal(cache.get(_key(i)), _array(i))
    assert cache.size_report()["tmp_files"] == 0


def _crash_during_write(root: str) -> None:
    """Simulates a process killed after writing the temporary file, before the rename."""
    real_replace = os.replace

    def dying_replace(src: str, dst: str) -> None:
        if str(dst).endswith(".npy"):
            os._exit(9)
        real_replace(src, dst)

    os.replace = dying_replace  # type: ignore[assignment]
    EmbeddingCache(root).put(_key(1), _array(1))


def test_interrupted_write_leaves_no_entry(tmp_path: Path) -> None:
    proc = mp.get_context("fork").Process(target=_crash_during_write, args=(str(tmp_path),))
    proc.start()
    proc.join()
    assert proc.exitcode == 9
    cache = EmbeddingCache(tmp_path)
    assert _key(1) not in cache and cache.get(_key(1)) is None and len(cache) == 0
    assert cache.size_report()["tmp_files"] == 1  # the half-finished write, invisible to readers
    assert cache.prune(10**9, stale_tmp_s=3600).stale_tmp_removed == 0  # a young tmp may be a live writer
    assert cache.prune(10**9, stale_tmp_s=0).stale_tmp_removed == 1
    cache.put(_key(1), _array(1))
    np.testing.assert_array_equal(cache.get(_key(1)), _array(1))


def test_corrupt_entry_is_removed_and_missed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = EmbeddingCache(tmp_path)
    path = cache.put(_key(3), _array(3))
    path.write_bytes(path.read_bytes()[:40])  # damaged outside the cache's control
    assert cache.get(_key(3)) is None
    assert "unreadable cache entry removed" in caplog.text
    assert _key(3) not in cache and len(cache) == 0


def test_size_report_and_lru_prune(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    paths = [cache.put(_key(i), np.zeros((100, 10), np.float32)) for i in range(6)]
    cache.put(CacheKey("x", "symbolic", layer_spec="last"), np.zeros((4, 4), np.float32))
    for age, p in enumerate(paths):  # key 0 oldest ... key 5 newest
        os.utime(p, (1_000_000 + age, 1_000_000 + age))
    cache.get(_key(0))  # reading makes key 0 the most recently used
    report = cache.size_report()
    entry = paths[0].stat().st_size
    assert report["entries"] == 7
    assert report["by_encoder"]["muq@0/last"] == {"entries": 6, "bytes": 6 * entry}
    assert "symbolic@0/last" in report["by_encoder"]
    result = cache.prune(report["bytes"] - 2 * entry)  # type: ignore[operator]
    assert result.removed == 2 and result.freed_bytes == 2 * entry
    assert _key(1) not in cache and _key(2) not in cache and _key(0) in cache and _key(5) in cache
    assert cache.size_report()["bytes"] == result.remaining_bytes


def test_rebuild_index_from_files(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    for i in range(3):
        cache.put(_key(i), _array(i))
    for f in tmp_path.glob("index.sqlite*"):
        f.unlink()
    fresh = EmbeddingCache(tmp_path)
    assert len(fresh) == 0 and _key(1) in fresh  # the files are the truth; the index is derived
    assert fresh.rebuild_index() == 3 and len(fresh) == 3 and set(fresh.keys()) == {_key(i) for i in range(3)}
    assert fresh.delete(_key(0)) and not fresh.delete(_key(0)) and len(fresh) == 2
