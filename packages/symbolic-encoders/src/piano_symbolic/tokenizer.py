"""REMI tokenization of piano performances through miditok.

Every performance goes through :func:`piano_data.midi.read_notes` (one merged piano track, seconds) and is
laid on
a fixed grid before tokenization: 120 quarter notes per minute in 4/4, so one beat is 0.5 s and one bar 2 s.
Performance MIDI has no meaningful bar lines, so this makes tokens comparable across sources (PercePiano,
ASAP,
MAESTRO and GiantMIDI all share one time base). With the default ``positions_per_beat=12`` the onset grid is
1/24 s (about 42 ms); velocities are quantized into 32 bins; sustain pedal on/off events are tokens.

The default spec gives a vocabulary of 455 tokens (``PAD``, ``BOS``, ``EOS``, ``MASK`` first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import symusic
from miditok import REMI, TokenizerConfig
from piano_data.atomic import write_text_atomic
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes

__all__ = ["TOKENIZER_FILE", "RemiTokenizer", "TokenizerSpec", "notes_to_score"]

#: File name of the saved tokenizer inside a checkpoint directory.
TOKENIZER_FILE = "tokenizer.json"
#: Ticks per quarter of the scores built from note arrays (tempo fixed at 120 qpm: 960 ticks per second).
_TPQ = 480
_TICKS_PER_SECOND = _TPQ * 2
_SPECIALS = ("PAD", "BOS", "EOS", "MASK")


@dataclass(frozen=True)
class TokenizerSpec:
    """Configuration of the REMI tokenizer (what ``tokenizer.json`` records).

    ``positions_per_beat`` sets the onset/duration grid for the first 4 beats (coarser, 4 per beat, up to 12
    beats); ``num_velocities`` the velocity bins.
    """

    positions_per_beat: int = 12
    num_velocities: int = 32
    use_sustain_pedals: bool = True
    use_tempos: bool = True
    use_time_signatures: bool = True
    pitch_range: tuple[int, int] = (21, 109)

    def to_miditok(self) -> TokenizerConfig:
        return TokenizerConfig(
            pitch_range=self.pitch_range,
            beat_res={(0, 4): self.positions_per_beat, (4, 12): 4},
            num_velocities=self.num_velocities,
            special_tokens=list(_SPECIALS),
            use_sustain_pedals=self.use_sustain_pedals,
            use_tempos=self.use_tempos,
            use_time_signatures=self.use_time_signatures,
        )


def notes_to_score(notes: NoteArray) -> Any:
    """One-track tick score of ``notes`` at 120 qpm, 4/4 (the grid every tokenization uses)."""
    score: Any = symusic.Score(_TPQ)
    track: Any = symusic.Track("piano", 0)
    for on, off, p, v in zip(notes.onset, notes.offset, notes.pitch, notes.velocity, strict=True):
        start = round(float(on) * _TICKS_PER_SECOND)
        dur = max(1, round(float(off) * _TICKS_PER_SECOND) - start)
        track.notes.append(symusic.Note(start, dur, int(p), int(np.clip(v, 1, 127))))
    for start, end in notes.pedal:
        s = round(float(start) * _TICKS_PER_SECOND)
        track.pedals.append(symusic.Pedal(s, max(1, round(float(end) * _TICKS_PER_SECOND) - s)))
    score.tracks.append(track)
    score.tempos.append(symusic.Tempo(0, 120.0))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    return score


class RemiTokenizer:
    """REMI tokenizer for piano notes with ids, batch encoding, decoding, save/load and a fingerprint."""

    def __init__(self, spec: TokenizerSpec | None = None) -> None:
        self.spec = spec or TokenizerSpec()
        self._tok = REMI(self.spec.to_miditok())

    # -- vocabulary ----------
    @property
    def vocab_size(self) -> int:
        return len(self._tok)

    def token_id(self, token: str) -> int:
        return int(self._tok.vocab[token])

    @property
    def pad_id(self) -> int:
        return self.token_id("PAD_None")

    @property
    def bos_id(self) -> int:
        return self.token_id("BOS_None")

    @property
    def eos_id(self) -> int:
        return self.token_id("EOS_None")

    @property
    def mask_id(self) -> int:
        return self.token_id("MASK_None")

    @property
    def special_ids(self) -> tuple[int, ...]:
        return tuple(self.token_id(f"{s}_None") for s in _SPECIALS)

    def tokens(self, ids: Sequence[int]) -> list[str]:
        """Token strings of ``ids``."""
        inv = {v: k for k, v in self._tok.vocab.items()}
        return [inv[int(i)] for i in ids]

    # -- encoding ----------
    def encode_notes(self, notes: NoteArray, *, add_bos_eos: bool = True) -> list[int]:
        """Token ids of one performance (``BOS ... EOS`` by default). Empty notes give only ``BOS EOS``."""
        ids: list[int] = []
        if len(notes):
            seqs = self._tok.encode(notes_to_score(notes))
            seq = seqs[0] if isinstance(seqs, list) else seqs
            ids = [int(i) for i in seq.ids]
        return [self.bos_id, *ids, self.eos_id] if add_bos_eos else ids

    def encode_file(self, path: str | PathLike[str], *, add_bos_eos: bool = True) -> list[int]:
        """Token ids of a MIDI file; raises :class:`PianoDataError` for a missing, corrupt or empty file."""
        return self.encode_notes(read_notes(path), add_bos_eos=add_bos_eos)

    def encode_batch(self, items: Sequence[NoteArray | str | PathLike[str]]) -> list[list[int]]:
        """Token ids of several performances (note arrays or MIDI paths)."""
        return [self.encode_notes(x) if isinstance(x, NoteArray) else self.encode_file(x) for x in items]

    # -- decoding ----------
    def decode(self, ids: Sequence[int]) -> Any:
        """Tick ``symusic.Score`` of token ids (special tokens are dropped)."""
        keep = [int(i) for i in ids if int(i) not in self.special_ids]
        return self._tok.decode([keep])

    def decode_notes(self, ids: Sequence[int]) -> NoteArray:
        """Decode token ids back into a :class:`NoteArray` in seconds (the inverse of
        :meth:`encode_notes`).
        """
        score: Any = self.decode(ids)
        score.tempos = [symusic.Tempo(0, 120.0)]
        sec = score.to("second")
        on: list[float] = []
        off: list[float] = []
        pitch: list[int] = []
        vel: list[int] = []
        ped: list[tuple[float, float]] = []
        for track in sec.tracks:
            for n in track.notes:
                on.append(n.time)
                off.append(n.time + n.duration)
                pitch.append(n.pitch)
                vel.append(n.velocity)
            ped.extend((p.time, p.time + p.duration) for p in track.pedals)
        return NoteArray.from_arrays(
            np.array(on), np.array(off), np.array(pitch), np.array(vel), np.array(ped).reshape(-1, 2)
        )

    # -- persistence ----------
    def fingerprint(self) -> str:
        """Short hash of the vocabulary and the spec: two tokenizers agree iff their fingerprints do."""
        payload = json.dumps({"spec": asdict(self.spec), "vocab": sorted(self._tok.vocab.items())}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def save(self, directory: str | PathLike[str]) -> Path:
        """Write ``tokenizer.json`` (spec + fingerprint + vocabulary) into ``directory``; returns its path."""
        out = Path(directory) / TOKENIZER_FILE
        payload = {
            "kind": "remi",
            "spec": asdict(self.spec),
            "fingerprint": self.fingerprint(),
            "vocab": self._tok.vocab,
        }
        return write_text_atomic(out, json.dumps(payload, indent=1))  # a unique temporary name: writers race

    @classmethod
    def load(cls, path: str | PathLike[str]) -> RemiTokenizer:
        """Load a tokenizer saved by :meth:`save` (a directory or the json file itself)."""
        p = Path(path)
        if p.is_dir():
            p = p / TOKENIZER_FILE
        if not p.is_file():
            raise PianoDataError(p, "tokenizer file not found")
        try:
            payload = json.loads(p.read_text())
            spec_d = dict(payload["spec"])
            spec_d["pitch_range"] = tuple(spec_d["pitch_range"])
            tok = cls(TokenizerSpec(**spec_d))
        except (KeyError, TypeError, ValueError) as exc:
            raise PianoDataError(p, f"not a piano_symbolic tokenizer file ({exc})") from None
        if payload.get("fingerprint") != tok.fingerprint():
            raise PianoDataError(p, "tokenizer vocabulary differs from the one its spec builds (miditok version?)")
        return tok
