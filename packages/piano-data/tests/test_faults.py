"""Faults lose nothing: a writer killed with SIGKILL mid-write leaves no corrupt entry in the embedding cache or
the render cache, the next run recomputes exactly what is missing, and two processes filling one cache at once
leave the same files as one process.

The child process stops itself inside a write, after the temporary file is complete and before it is renamed
into place (it waits inside ``os.replace``), and the test kills it there with SIGKILL: the moment a writer that
wrote in place would leave a torn file. A writer that did not go through a temporary file and ``os.replace``
would never reach that point, and the test would fail waiting for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data.cache import CacheKey, EmbeddingCache
from piano_data.midi import NoteArray, write_notes
from piano_data.render import render_midi
from piano_data.soundfonts import find_soundfont

N_EMB = 4
N_MIDI = 3

CHILD = r"""
import os, sys, time
from pathlib import Path
root, hang_on = Path(sys.argv[1]), sys.argv[2]
if hang_on != "none":
    real_replace = os.replace
    def replace_then_hang(src, dst):
        if str(dst).endswith(hang_on):
            (root / "ready").write_text(str(src))
            time.sleep(300)  # killed here, between a complete temporary file and its rename
        return real_replace(src, dst)
    os.replace = replace_then_hang
sys.path.insert(0, sys.argv[3])
from test_faults import fill
fill(root)
(root / "done").write_text("ok")
"""


def _expected(k: int) -> np.ndarray:
    return (np.arange(64 * 1024, dtype=np.float32).reshape(256, 256) * (k + 1)) % 997


def fill(root: Path) -> None:
    """The work both the child and the test do: embeddings first, then renders (skipping what is cached)."""
    cache = EmbeddingCache(root / "emb")
    for k in range(N_EMB):
        key = CacheKey(f"content-{k}", "test-encoder")
        if key not in cache:
            cache.put(key, _expected(k))
    for k in range(N_MIDI):
        render_midi(root / "midi" / f"m{k}.mid", "additive_piano", root / "render")


def _inputs(root: Path) -> None:
    for k in range(N_MIDI):
        onset = np.arange(4) * 0.2
        notes = NoteArray.from_arrays(onset, onset + 0.3, 60 + k + np.arange(4) * 2, np.full(4, 70 + 10 * k))
        write_notes(notes, root / "midi" / f"m{k}.mid")


def _spawn(root: Path, hang_on: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    here = str(Path(__file__).parent)
    return subprocess.Popen([sys.executable, "-c", CHILD, str(root), hang_on, here], env=env)


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child exited ({proc.returncode}) before {path.name}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"child never reached {path.name}: a writer that does not rename into place?")
        time.sleep(0.05)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every finished file of both caches (temporary files and the SQLite index left out): the bytes, or for a
    WAV its samples and rate (libsndfile stamps the time into a float WAV's PEAK chunk)."""
    files = [*(root / "emb" / "shards").glob("*/*.npy"), *(root / "emb" / "shards").glob("*/*.json")]
    out = {str(p.relative_to(root)): p.read_bytes() for p in files}
    for wav in (root / "render").rglob("*.wav"):
        audio, sr = sf.read(str(wav), dtype="float32")
        out[str(wav.relative_to(root))] = str(sr).encode() + audio.tobytes()
    return out


def _check_no_corrupt_entry(root: Path) -> tuple[int, int]:
    cache = EmbeddingCache(root / "emb")
    n_emb = 0
    for k in range(N_EMB):
        arr = cache.get(CacheKey(f"content-{k}", "test-encoder"))
        if arr is not None:
            np.testing.assert_array_equal(arr, _expected(k))
            n_emb += 1
    wavs = list((root / "render").rglob("*.wav"))
    for wav in wavs:
        audio, sr = sf.read(str(wav), dtype="float32")
        assert sr == 24000 and len(audio) > 0 and np.isfinite(audio).all()
    return n_emb, len(wavs)


@pytest.fixture(scope="module", autouse=True)
def _cache_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:  # children inherit it through the environment
        mp.setenv("PIANO_EVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache-root"))
        find_soundfont("additive_piano")  # generated once here, so that children only read it
        yield


@pytest.fixture(scope="module")
def reference(_cache_root: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What one uninterrupted process leaves."""
    root = tmp_path_factory.mktemp("reference")
    _inputs(root)
    fill(root)
    return _snapshot(root)


@pytest.mark.parametrize(("hang_on", "emb_done"), [(".npy", 0), (".wav", N_EMB)])
def test_kill_mid_write_leaves_no_corrupt_entry_and_the_next_run_completes(
    tmp_path: Path, reference: dict[str, bytes], hang_on: str, emb_done: int
) -> None:
    _inputs(tmp_path)
    proc = _spawn(tmp_path, hang_on)
    _wait_for(tmp_path / "ready", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    torn = Path((tmp_path / "ready").read_text())
    assert torn.is_file() and torn.name.endswith(".tmp")  # the complete temporary file, never renamed
    assert _check_no_corrupt_entry(tmp_path) == (emb_done, 0)  # what finished is whole; nothing half-there
    fill(tmp_path)  # the next run
    assert _check_no_corrupt_entry(tmp_path) == (N_EMB, N_MIDI)
    assert _snapshot(tmp_path) == reference  # recomputed what was missing, byte for byte
    assert EmbeddingCache(tmp_path / "emb").rebuild_index() == 0  # every finished entry was indexed
    pruned = EmbeddingCache(tmp_path / "emb").prune(1 << 40, stale_tmp_s=0.0)
    assert pruned.stale_tmp_removed == (1 if hang_on == ".npy" else 0) and pruned.removed == 0


def test_two_processes_filling_one_cache_leave_what_one_leaves(tmp_path: Path, reference: dict[str, bytes]) -> None:
    _inputs(tmp_path)
    procs = [_spawn(tmp_path, "none") for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0
    assert _snapshot(tmp_path) == reference
    assert not list(tmp_path.rglob("*.tmp"))
    assert len(EmbeddingCache(tmp_path / "emb")) == N_EMB
