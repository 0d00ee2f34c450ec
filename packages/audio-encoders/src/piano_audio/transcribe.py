"""Audio -> piano MIDI with transkun (its pretrained checkpoint ships inside the wheel: works offline).

transkun works at 44.1 kHz; audio is read/resampled through :func:`piano_audio.audio.load_audio`, so the same
bad-input checks apply. Sustain pedal comes back as intervals (transkun's CC64 events).
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes
from piano_data.rng import preserved_rng_state

from piano_audio.audio import AudioInput, load_audio

__all__ = ["TRANSKUN_RATE", "load_transkun", "transcribe", "transcribe_to_midi"]

#: transkun's input sample rate.
TRANSKUN_RATE = 44_100
_SUSTAIN = 64


@functools.lru_cache(maxsize=2)
def load_transkun(device: str = "cpu") -> Any:
    """The pretrained transkun model from its wheel (cached per device), in eval mode."""
    import moduleconf

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
    return model.to(device).eval()


def transcribe(
    audio: AudioInput,
    *,
    sample_rate: int | None = None,
    device: str = "cpu",
    allow_clipped: bool = True,
    segment_seconds: float | None = None,
    hop_seconds: float | None = None,
) -> NoteArray:
    """Transcribe a file or array (``sample_rate`` for arrays, default 24 kHz) into a :class:`NoteArray`.

    Clipped audio is accepted by default (transcription is robust to it); empty, silent, non-finite, too short
    or unreadable audio raises :class:`PianoDataError`.
    """
    is_file = isinstance(audio, str | os.PathLike)
    wave = load_audio(
        audio,
        sample_rate=sample_rate if is_file or sample_rate is not None else SAMPLE_RATE,
        target_rate=TRANSKUN_RATE,
        min_seconds=0.5,
        allow_clipped=allow_clipped,
    )
    model = load_transkun(device)
    x = torch.from_numpy(wave)[:, None].to(device)  # [N, channels]
    with torch.inference_mode():
        events = model.transcribe(x, stepInSecond=hop_seconds, segmentSizeInSecond=segment_seconds)
    notes = [e for e in events if e.pitch > 0]
    pedal = [(float(e.start), float(e.end)) for e in events if e.pitch == -_SUSTAIN]
    source = str(audio) if is_file else None
    return NoteArray.from_arrays(
        np.array([float(n.start) for n in notes]),
        np.array([float(n.end) for n in notes]),
        np.array([int(n.pitch) for n in notes]),
        np.array([int(np.clip(round(n.velocity), 1, 127)) for n in notes]),
        np.array(pedal).reshape(-1, 2),
        source=source,
    )


def transcribe_to_midi(audio: AudioInput, output: str | os.PathLike[str], **kwargs: Any) -> tuple[Path, NoteArray]:
    """Transcribe and write a one-track piano MIDI (atomic write); returns the path and the notes."""
    notes = transcribe(audio, **kwargs)
    return write_notes(notes, output), notes
