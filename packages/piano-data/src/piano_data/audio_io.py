"""Audio file I/O at the project's sample rate: read (downmix + resample, said once), check, write atomically.

Every audio file in the project is read with :func:`load_audio`, which returns mono float32 at
:data:`~piano_data.contracts.SAMPLE_RATE` (24 kHz) unless told otherwise. Several channels are averaged and
other sample rates are resampled with soxr; each of these conversions is logged once per process and reason,
not once per file.
"""

from __future__ import annotations

import hashlib
import logging
from os import PathLike
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from piano_data.atomic import atomic_path
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError

__all__ = [
    "AUDIO_EXTENSIONS",
    "audio_duration",
    "check_clip",
    "content_hash",
    "load_audio",
    "to_mono",
    "write_audio",
]

log = logging.getLogger(__name__)

#: File name endings read as audio by the loaders.
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
_SAID: set[str] = set()


def _say_once(reason: str, message: str) -> None:
    if reason not in _SAID:
        _SAID.add(reason)
        log.warning("%s (said once; later files are converted silently)", message)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """``[N]`` or ``[N, C]`` (soundfile layout) to ``[N]`` float32 by averaging the channels."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"audio must be [N] or [N, C], got shape {a.shape}")
    return a


def load_audio(
    path: str | PathLike[str],
    sample_rate: int = SAMPLE_RATE,
    *,
    start_s: float = 0.0,
    duration_s: float | None = None,
) -> np.ndarray:
    """Read ``path`` as mono float32 at ``sample_rate``; optionally only ``duration_s`` seconds from
    ``start_s``.

    Raises :class:`PianoDataError` when the file is missing, unreadable, empty, or truncated (read whole, it
    decodes to less than 90% of what its header promises: a cut download that would otherwise look valid).
    """
    p = Path(path)
    if not p.is_file():
        raise PianoDataError(p, "audio file not found")
    try:
        info = sf.info(str(p))
        start = round(start_s * info.samplerate)
        frames = -1 if duration_s is None else round(duration_s * info.samplerate)
        data, sr = sf.read(str(p), start=start, frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise PianoDataError(p, f"not a readable audio file ({exc})") from None
    if data.shape[0] == 0:
        raise PianoDataError(p, "audio file holds no samples")
    if start == 0 and frames < 0:
        promised = max(int(info.frames), _wav_promised_frames(p))
        if promised > 0 and data.shape[0] < 0.9 * promised:  # a cut download looks like a short, valid file
            raise PianoDataError(
                p,
                f"audio is truncated: its header promises {promised / sr:.2f} s, only {data.shape[0] / sr:.2f} s "
                "decode",
            )
    if data.shape[1] > 1:
        _say_once("downmix", f"{p}: {data.shape[1]} channels, downmixed to mono")
    mono = to_mono(data)
    if sr != sample_rate:
        _say_once(f"resample{sr}", f"{p}: sample rate {sr} Hz, resampled to {sample_rate} Hz with soxr")
        mono = soxr.resample(mono, sr, sample_rate).astype(np.float32, copy=False)
    if not np.all(np.isfinite(mono)):
        raise PianoDataError(p, "audio holds NaN or infinite samples")
    return mono


def _wav_promised_frames(path: Path) -> int:
    """Frames that a WAV file's ``data`` chunk header claims (libsndfile silently shortens a cut file to what is
    there); 0 when not a WAV or the size is unknown. Assumes the sample width of the ``fmt`` chunk."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    offset, block = 12, 0
    while offset + 8 <= len(head):
        tag, size = head[offset : offset + 4], int.from_bytes(head[offset + 4 : offset + 8], "little")
        if tag == b"fmt " and offset + 22 <= len(head):
            block = int.from_bytes(head[offset + 20 : offset + 22], "little")  # bytes per frame
        if tag == b"data":
            return size // block if block > 0 and size not in (0, 0xFFFFFFFF) else 0
        offset += 8 + size + (size & 1)
    return 0


def audio_duration(path: str | PathLike[str]) -> float:
    """Duration in seconds from the header (no decoding)."""
    p = Path(path)
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise PianoDataError(p, f"not a readable audio file ({exc})") from None
    return float(info.frames) / float(info.samplerate)


def check_clip(
    audio: np.ndarray,
    *,
    path: str | PathLike[str] | None = None,
    sample_rate: int = SAMPLE_RATE,
    min_seconds: float = 1.0,
    silence_dbfs: float = -60.0,
) -> np.ndarray:
    """Raise :class:`PianoDataError` if ``audio`` is shorter than ``min_seconds`` or silent (RMS below
    ``silence_dbfs``); return it unchanged otherwise."""
    seconds = len(audio) / sample_rate
    if seconds < min_seconds:
        raise PianoDataError(path, f"clip too short ({seconds:.2f} s < {min_seconds:.2f} s)")
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    if rms <= 10 ** (silence_dbfs / 20):
        level = -np.inf if rms == 0 else 20 * np.log10(rms)
        raise PianoDataError(path, f"clip is silent (RMS {level:.1f} dBFS <= {silence_dbfs:.0f} dBFS)")
    return audio


def write_audio(path: str | PathLike[str], audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float32 audio as a WAV file atomically (temporary file in the same folder, then rename)."""
    out = Path(path)
    with atomic_path(out) as tmp:
        sf.write(str(tmp), np.asarray(audio, dtype=np.float32), sample_rate, subtype="FLOAT", format="WAV")
    return out


def content_hash(data: bytes | str | PathLike[str] | np.ndarray, *, length: int = 32) -> str:
    """Hex sha256 of bytes, of a file's bytes, or of an array's dtype, shape and bytes (first ``length``
    chars)."""
    h = hashlib.sha256()
    if isinstance(data, bytes):
        h.update(data)
    elif isinstance(data, np.ndarray):
        arr = np.ascontiguousarray(data)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    else:
        p = Path(data)
        if not p.is_file():
            raise PianoDataError(p, "file not found")
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:length]
