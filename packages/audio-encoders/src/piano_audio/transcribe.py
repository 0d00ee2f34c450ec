"""Audio -> piano MIDI with transkun (its pretrained checkpoint ships inside the wheel: works offline).

transkun works at 44.1 kHz; audio is read/resampled through :func:`piano_audio.audio.load_audio`, so the same
bad-input checks apply, plus two of transcription's own: a file that decodes to far less than its header
promises (a truncated download) and audio in which no piano note is found both raise
:class:`~piano_data.errors.PianoDataError` instead of giving an empty MIDI.

Speed (numbers and commands in ``benchmarks/transcription.md``): the model is loaded once per process
(:func:`load_transkun` is cached), runs under ``torch.inference_mode()``, in bfloat16 autocast where the CPU
has native bfloat16 (``precision="auto"``), on ``threads`` torch threads for the duration of the call only,
and over 16 s segments with a 12 s hop (transkun's own default hop is 8 s: every second is computed twice).
Segments are processed one at a time, so memory stays flat whatever the length; the segment loop
(:func:`transkun_events`) follows ``transkun.ModelTransformer.TransKun.transcribe`` (2.0.1) but stops at the
last segment that holds audio.
"""

from __future__ import annotations

import functools
import math
import os
import struct
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import numpy as np
import soundfile as sf
import torch
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes
from piano_data.rng import preserved_rng_state

from piano_audio.audio import AudioInput, load_audio

__all__ = [
    "HOP_SECONDS",
    "MODELS",
    "SEGMENT_SECONDS",
    "TRANSKUN_RATE",
    "Precision",
    "Transcription",
    "default_threads",
    "header_seconds",
    "load_transcriber",
    "load_transkun",
    "transcribe",
    "transcribe_audio",
    "transcribe_to_midi",
    "transkun_events",
]

#: Transcribers this module can run (``model=``); all work offline from their wheel.
MODELS: tuple[str, ...] = ("transkun",)
#: transkun's input sample rate.
TRANSKUN_RATE = 44_100
#: Segment length (transkun's training length) and hop between segment starts, in seconds.
SEGMENT_SECONDS = 16.0
HOP_SECONDS = 12.0
#: At most this many torch threads by default (transkun gains little beyond).
MAX_DEFAULT_THREADS = 4
#: A file is called truncated when it decodes to less than its header promises by more than both of these.
TRUNCATION_MIN_SECONDS = 0.5
TRUNCATION_MIN_FRACTION = 0.02

Precision = Literal["auto", "fp32", "bf16"]
_SUSTAIN = 64


@dataclass(frozen=True)
class Transcription:
    """What :func:`transcribe_audio` found: the notes, the decoded audio's duration and how it ran."""

    notes: NoteArray
    audio_seconds: float
    model: str
    precision: Literal["fp32", "bf16"]
    threads: int
    segments: int


def _import_transkun_model() -> Any:
    """Import ``transkun.ModelTransformer`` without its training metrics.

    It star-imports ``transkun.Evaluation``, which imports mir_eval and with it scipy.stats: about 2.7 CPU-s of
    start-up for functions that only training calls (``computeStats``). An empty stand-in takes its place during
    the import and is dropped after it, so a later ``import transkun.Evaluation`` still gets the real module.
    """
    import importlib
    import sys
    import types

    if "transkun.ModelTransformer" in sys.modules or "transkun.Evaluation" in sys.modules:
        return importlib.import_module("transkun.ModelTransformer")
    stand_in = types.ModuleType("transkun.Evaluation")
    sys.modules["transkun.Evaluation"] = stand_in
    try:
        return importlib.import_module("transkun.ModelTransformer")
    finally:
        if sys.modules.get("transkun.Evaluation") is stand_in:
            del sys.modules["transkun.Evaluation"]
        package = sys.modules.get("transkun")
        if package is not None and getattr(package, "Evaluation", None) is stand_in:
            delattr(package, "Evaluation")


@functools.lru_cache(maxsize=2)
def load_transkun(device: str = "cpu") -> Any:
    """The pretrained transkun model from its wheel, loaded once per process and device, in eval mode."""
    import moduleconf

    _import_transkun_model()  # moduleconf imports it by name below: this makes that import cheaper

    pretrained = resources.files("transkun") / "pretrained"
    conf_path, weight_path = Path(str(pretrained / "2.0.conf")), Path(str(pretrained / "2.0.pt"))
    if not weight_path.is_file():
        raise PianoDataError(weight_path, "transkun's pretrained checkpoint is missing from its installation")
    conf_manager = moduleconf.parseFromFile(str(conf_path))
    transkun_cls = conf_manager["Model"].module.TransKun
    with preserved_rng_state():
        model = transkun_cls(conf=conf_manager["Model"].config)
    # the checkpoint ships with the installed package (trusted): it holds non-tensor entries
    checkpoint = torch.load(weight_path, map_location=device, weights_only=False)
    state = checkpoint.get("best_state_dict", checkpoint.get("state_dict"))
    model.load_state_dict(state, strict=False)
    # transkun wraps each encoder layer in torch.utils.checkpoint when this is set: pointless without gradients
    model.backbone.useGradientCheckpoint = False
    return model.to(device).eval()


def load_transcriber(model: str = "transkun", device: str = "cpu") -> Any:
    """Load (once per process) the transcriber named ``model``; see :data:`MODELS`."""
    if model not in MODELS:
        raise PianoDataError(None, f"unknown transcriber '{model}' (choose one of: {', '.join(MODELS)})")
    return load_transkun(device)


def default_threads() -> int:
    """Torch threads used when none are asked for: the cores this process may run on that other work leaves idle
    (1-minute load average, with this process counted out), at least 1 and at most 4.

    On a busy machine more threads than idle cores cost CPU time without saving wall time (OpenMP threads
    spin while they wait for each other: measured in benchmarks/transcription.md).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):  # no load average on this platform
        busy = 0.0
    return max(1, min(cores, MAX_DEFAULT_THREADS, math.floor(cores - busy + 0.5)))


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` torch intra-op threads, then put the caller's setting back."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resolve_precision(precision: str, device: str) -> Literal["fp32", "bf16"]:
    if precision == "fp32":
        return "fp32"
    if precision == "bf16":
        return "bf16"
    if precision != "auto":
        raise PianoDataError(None, f"unknown precision '{precision}' (use auto, fp32 or bf16)")
    if device != "cpu":
        return "fp32"
    try:  # bfloat16 pays off only where the CPU computes it natively (AVX512-BF16 / AMX); elsewhere it is slower
        return "bf16" if bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) else "fp32"
    except (AttributeError, RuntimeError):
        return "fp32"


def transkun_events(model: Any, x: torch.Tensor, segment_seconds: float, hop_seconds: float) -> tuple[list[Any], int]:
    """transkun's note events for ``x`` ``[samples, channels]`` at ``model.fs``, segment by segment.

    Same segmentation, forced start positions and merging of notes across segments as
    ``TransKun.transcribe`` (transkun 2.0.1), except that the loop ends with the segment that reaches the end
    of the (padded) audio instead of running on over padding alone. Returns the events and the number of
    segments. (Cutting a short clip into one segment of its own length instead was tried and lost notes: onset
    F1 0.69 against 0.99 on 5 s clips, benchmarks/transcription.md.)
    """
    import torch.nn.functional as F
    from transkun.Data import resolveOverlapping
    from transkun.Util import makeFrame

    if not 0 < hop_seconds <= segment_seconds:
        raise PianoDataError(None, f"hop ({hop_seconds} s) must be in (0, segment = {segment_seconds} s]")
    fs, frame_hop = model.fs, model.hopSize
    x = x.transpose(-1, -2)  # [channels, samples]
    pad_s, segment = segment_seconds - hop_seconds, math.ceil(segment_seconds * fs)
    step = math.ceil(hop_seconds * fs / frame_hop) * frame_hop
    x = F.pad(x, (math.ceil(pad_s * fs), math.ceil(pad_s * fs)))
    total = x.shape[-1]
    start_pos = [math.floor(pad_s * fs / frame_hop)] * len(model.targetMIDIPitch)
    last_frame = round(segment / frame_hop)
    by_pitch: dict[int, list[Any]] = defaultdict(list)
    begin, segments = 0, 0
    while True:
        end = min(begin + segment, total)
        chunk = x[:, begin:end]
        if chunk.shape[-1] < segment:
            chunk = F.pad(chunk, (0, segment - chunk.shape[-1]))
        frames = makeFrame(chunk, model.hopSize, model.windowSize)
        found, last_p = model.transcribeFrames(
            frames.unsqueeze(0), forcedStartPos=start_pos, velocityCriteron="hamming", lastFrameIdx=last_frame
        )
        segments += 1
        start_pos = [max(k - int(step / frame_hop), 0) for k in last_p]
        offset = begin / fs - pad_s
        for e in found[0]:
            e.start = max(e.start + offset, 0)
            e.end = max(e.end + offset, e.start)
            same = by_pitch[e.pitch]
            if same and e.start < same[-1].end:  # continues (or restarts) the note left open by the last segment
                if e.hasOnset:
                    same[-1] = e
                else:
                    same[-1].hasOffset = e.hasOffset
                    same[-1].end = max(e.end, same[-1].end)
            elif e.hasOnset:
                same.append(e)
        if end >= total:
            break
        begin += step
    for same in by_pitch.values():
        if same:
            same[-1].hasOffset = True
    events = [e for same in by_pitch.values() for e in same if e.hasOffset]
    return resolveOverlapping(events), segments


def header_seconds(path: str | os.PathLike[str]) -> float | None:
    """The duration a file's header promises, or None when it promises none.

    WAV: the ``data`` chunk's byte count (libsndfile clamps its own frame count to the bytes present, so it
    cannot tell); other formats: libsndfile's frame count (exact for FLAC and for MP3 with a Xing/Info header; an
    MP3 without one is estimated from the file size, so its truncation cannot be seen).
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        pos, block_align, rate = 12, 0, 0
        while pos + 8 <= len(head):
            cid, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
            if cid == b"fmt " and pos + 22 <= len(head):
                rate, block_align = (
                    struct.unpack("<I", head[pos + 12 : pos + 16])[0],
                    struct.unpack("<H", head[pos + 20 : pos + 22])[0],
                )
            elif cid == b"data":
                if rate <= 0 or block_align <= 0 or size in (0, 0xFFFFFFFF):
                    return None
                return size / block_align / rate
            pos += 8 + size + (size & 1)
        return None
    try:
        info = sf.info(str(path))
    except Exception:  # unreadable headers are load_audio's to report
        return None
    return info.frames / info.samplerate if info.samplerate > 0 and info.frames > 0 else None


def _check_not_truncated(path: str | os.PathLike[str], decoded_seconds: float) -> None:
    promised = header_seconds(path)
    if promised is None:
        return
    shortfall = promised - decoded_seconds
    if shortfall > TRUNCATION_MIN_SECONDS and shortfall > TRUNCATION_MIN_FRACTION * promised:
        raise PianoDataError(
            path,
            f"audio is truncated: it decodes to {decoded_seconds:.1f} s but its header promises {promised:.1f} s "
            "(an interrupted download or copy?); pass allow_truncated=True (--allow-truncated) to use what is there",
        )


def transcribe_audio(
    audio: AudioInput,
    *,
    sample_rate: int | None = None,
    model: str = "transkun",
    device: str = "cpu",
    threads: int | None = None,
    precision: Precision = "auto",
    allow_clipped: bool = True,
    allow_truncated: bool = False,
    allow_empty: bool = False,
    segment_seconds: float | None = None,
    hop_seconds: float | None = None,
) -> Transcription:
    """Transcribe a file or array (``sample_rate`` for arrays, default 24 kHz) into a :class:`Transcription`.

    Raises :class:`PianoDataError` for empty, silent, non-finite, too short or unreadable audio (and clipped
    audio when ``allow_clipped`` is False), for a file that decodes to far less than its header promises unless
    ``allow_truncated``, and when no piano note is found unless ``allow_empty``. ``threads`` torch threads (default
    :func:`default_threads`) are used during the call only; the caller's setting is restored afterwards.
    """
    is_file = isinstance(audio, str | os.PathLike)
    name = str(audio) if is_file else "<array>"
    wave = load_audio(
        audio,
        sample_rate=sample_rate if is_file or sample_rate is not None else SAMPLE_RATE,
        target_rate=TRANSKUN_RATE,
        min_seconds=0.5,
        allow_clipped=allow_clipped,
    )
    seconds = wave.size / TRANSKUN_RATE
    if is_file and not allow_truncated:
        _check_not_truncated(audio, seconds)  # type: ignore[arg-type]
    n_threads = default_threads() if threads is None else int(threads)
    if n_threads < 1:
        raise PianoDataError(None, f"threads must be >= 1, got {threads}")
    used = _resolve_precision(precision, device)
    net = load_transcriber(model, device)
    x = torch.from_numpy(wave)[:, None].to(device)  # [N, channels]
    autocast = torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16) if used == "bf16" else None
    with _torch_threads(n_threads), torch.inference_mode(), autocast or nullcontext():
        events, segments = transkun_events(
            net,
            x,
            SEGMENT_SECONDS if segment_seconds is None else float(segment_seconds),
            HOP_SECONDS if hop_seconds is None else float(hop_seconds),
        )
    notes_ev = [e for e in events if e.pitch > 0]
    if not notes_ev and not allow_empty:
        raise PianoDataError(
            name,
            f"no piano notes were transcribed from {seconds:.1f} s of audio (noise, speech or silence give none);"
            " nothing written",
        )
    pedal = [(float(e.start), float(e.end)) for e in events if e.pitch == -_SUSTAIN]
    notes = NoteArray.from_arrays(
        np.array([float(e.start) for e in notes_ev]),
        np.array([float(e.end) for e in notes_ev]),
        np.array([int(e.pitch) for e in notes_ev]),
        np.array([int(np.clip(round(e.velocity), 1, 127)) for e in notes_ev]),
        np.array(pedal).reshape(-1, 2),
        source=name if is_file else None,
    )
    return Transcription(notes, seconds, model, used, n_threads, segments)


class TranscribeOptions(TypedDict, total=False):
    """The keyword options of :func:`transcribe_audio`, for :func:`transcribe` (same names, same defaults)."""

    sample_rate: int | None
    model: str
    device: str
    threads: int | None
    precision: Precision
    allow_clipped: bool
    allow_truncated: bool
    allow_empty: bool
    segment_seconds: float | None
    hop_seconds: float | None


def transcribe(audio: AudioInput, **options: Unpack[TranscribeOptions]) -> NoteArray:
    """Transcribe a file or array into a :class:`NoteArray`; options and errors as :func:`transcribe_audio`."""
    return transcribe_audio(audio, **options).notes


def transcribe_to_midi(
    audio: AudioInput, output: str | os.PathLike[str], **options: Unpack[TranscribeOptions]
) -> tuple[Path, NoteArray]:
    """Transcribe and write a one-track piano MIDI (atomic write); returns the path and the notes. Nothing is
    written when transcription fails."""
    notes = transcribe(audio, **options)
    return write_notes(notes, output), notes
