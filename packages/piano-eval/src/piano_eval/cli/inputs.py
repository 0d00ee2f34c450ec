"""The performance files the CLI reads (MIDI, or audio transcribed first): one reader for ``align`` and ``score``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from piano_data.errors import PianoDataError

if TYPE_CHECKING:
    from piano_data.midi import NoteArray

__all__ = ["AUDIO_SUFFIXES", "MIDI_SUFFIXES", "load_performance"]

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aif", ".aiff"})
MIDI_SUFFIXES = frozenset({".mid", ".midi"})


def load_performance(path: Path) -> NoteArray:
    """Notes of a performance: read from MIDI, or transcribed from audio; errors name the file."""
    if not path.is_file():
        raise PianoDataError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        from piano_data.midi import read_notes

        return read_notes(path)
    if suffix in AUDIO_SUFFIXES:
        from piano_audio.transcribe import transcribe

        notes = transcribe(path)
        if len(notes) == 0:
            raise PianoDataError(path, "no piano notes were transcribed from this audio (silence, or not a piano?)")
        return notes
    raise PianoDataError(
        path,
        f"unsupported file type {suffix!r} (MIDI: .mid/.midi; audio: {', '.join(sorted(AUDIO_SUFFIXES))})",
    )
