"""Audio input: read a file or take an array, downmix to mono, resample, and reject unusable audio.

Every audio path in the package goes through :func:`load_audio`, so bad input fails in one place with a
one-line
:class:`~piano_data.errors.PianoDataError` (empty, silent, clipped, too short, non-finite, unsupported
format).
Downmixing and resampling are announced once per process (a ``UserWarning``), not silently done.
"""

from __future__ import annotations

import warnings
from os import PathLike
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError

__all__ = ["SUPPORTED_SUFFIXES", "AudioInput", "check_audio", "load_audio"]

AudioInput = str | PathLike[str] | np.ndarray | torch.Tensor

#: File suffixes read through libsndfile.
SUPPORTED_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".opus")

#: Peak below this (about -80 dBFS) counts as silence.
SILENCE_PEAK = 1e-4
#: Samples at or above this magnitude count as clipped.
CLIP_LEVEL = 0.999
#: Reject audio whose clipped fraction exceeds this.
MAX_CLIPPED_FRACTION = 0.01

_announced: set[str] = set()


def _say_once(key: str, message: str) -> None:
    if key not in _announced:
        _announced.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


def _read_file(path: Path) -> tuple[np.ndarray, int]:
    if not path.is_file():
        raise PianoDataError(path, "audio file not found")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise PianoDataError(
            path,
            f"unsupported audio format '{path.suffix or '(none)'}' (use one of {', '.join(SUPPORTED_SUFFIXES)})",
        )
    if path.stat().st_size == 0:
        raise PianoDataError(path, "audio file is empty (0 bytes)")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile errors are terse: name the file and keep its text
        raise PianoDataError(path, f"not a readable audio file ({str(exc).splitlines()[0]})") from None
    return data.T, int(sr)  # [C, N]


def _as_channels_first(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 1:
        return array[None, :]
    if array.ndim != 2:
        raise PianoDataError(name, f"audio array must be [N] or [C, N], got shape {array.shape}")
    # accept [N, C] too: channels are the short axis
    return array if array.shape[0] <= array.shape[1] else array.T


def check_audio(wave: np.ndarray, sample_rate: int, name: str, *, min_seconds: float, allow_clipped: bool) -> None:
    """Raise :class:`PianoDataError` when mono ``wave`` cannot be a musical input."""
    if wave.size == 0:
        raise PianoDataError(name, "audio is empty (0 samples)")
    if not np.isfinite(wave).all():
        raise PianoDataError(name, "audio contains NaN or infinite samples")
    seconds = wave.size / sample_rate
    if seconds < min_seconds:
        raise PianoDataError(name, f"audio is too short ({seconds:.3f} s < {min_seconds} s)")
    peak = float(np.abs(wave).max())
    if peak < SILENCE_PEAK:
        raise PianoDataError(name, f"audio is silent (peak {peak:.2e} < {SILENCE_PEAK:.0e})")
    clipped = float(np.mean(np.abs(wave) >= CLIP_LEVEL))
    if not allow_clipped and clipped > MAX_CLIPPED_FRACTION:
        raise PianoDataError(
            name,
            f"audio is clipped ({100 * clipped:.1f}% of samples at full scale"
            f" > {100 * MAX_CLIPPED_FRACTION:.0f}%);"
            " pass allow_clipped=True to use it anyway",
        )


def load_audio(
    source: AudioInput,
    *,
    sample_rate: int | None = None,
    target_rate: int = SAMPLE_RATE,
    min_seconds: float = 0.5,
    allow_clipped: bool = False,
    mono: bool = True,
) -> np.ndarray:
    """Load ``source`` as float32 audio at ``target_rate``: ``[N]`` when ``mono`` else ``[C, N]``.

    ``source`` is a path (wav/flac/ogg/mp3/aiff/opus) or an array ``[N]``, ``[C, N]`` or ``[N, C]``; an
    array is
    taken to be at ``sample_rate`` (default ``target_rate``). Multi-channel input is averaged to mono and
    other
    rates resampled with soxr (each announced once per process).
    """
    if isinstance(source, str | PathLike):
        name = str(source)
        data, sr = _read_file(Path(source))
        if sample_rate is not None and sample_rate != sr:
            raise PianoDataError(name, f"file is at {sr} Hz but sample_rate={sample_rate} was given")
    else:
        name = "<array>"
        arr = source.detach().cpu().numpy() if isinstance(source, torch.Tensor) else np.asarray(source)
        if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
            raise PianoDataError(name, f"audio array must be numeric, got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.integer):
            arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
        data = _as_channels_first(arr.astype(np.float32, copy=False), name)
        sr = int(sample_rate or target_rate)
    if data.shape[1] == 0:
        raise PianoDataError(name, "audio is empty (0 samples)")
    if mono and data.shape[0] > 1:
        _say_once("downmix", f"piano_audio: downmixing {data.shape[0]}-channel audio to mono (channel mean)")
        data = data.mean(axis=0, keepdims=True)
    if sr != target_rate:
        _say_once(f"resample{sr}", f"piano_audio: resampling audio from {sr} Hz to {target_rate} Hz (soxr)")
        data = soxr.resample(data.T, sr, target_rate).T.astype(np.float32)
    data = np.ascontiguousarray(data, dtype=np.float32)
    for channel in data:
        check_audio(channel, target_rate, name, min_seconds=min_seconds, allow_clipped=allow_clipped)
    return data[0] if mono else data
