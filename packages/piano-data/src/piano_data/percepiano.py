"""PercePiano (T1): 1,202 labelled segments, 19 perceptual dimensions, each linked to its score MIDI.

Layout (any local root in the upstream layout)::

    <root>/midi/all_2rounds/<piece>_<N>bars_<player>_<segment>.mid
    <root>/midi/score_midi/<piece>_<N>bars_Score_<segment>.mid
    <root>/labels_root/label_2round_mean_reg_19_with0_rm_highstd0.json   {key: [19 means / 7, pianist_idx]}
    <root>/labels_root/label_2round_std_reg_19_with0_rm_highstd0.json    {key: [19 stds / 7]}

Each segment records the SHA-1 of its MIDI file in ``extra['midi_sha1']``: 25 files are byte-identical to
files of other passages, and the splits keep such passages together.

The player is the second-to-last field of the file name (the upstream README says the reverse); ``Score`` and
``Score2`` are deadpan renditions rated like performers. File names are stripped before matching (one starts with
a space). The trailing pianist index of the label file is ignored.
"""

from __future__ import annotations

import hashlib
import re
from os import PathLike
from pathlib import Path

import numpy as np

from piano_data.contracts import N_DIMS
from piano_data.errors import PianoDataError, read_json
from piano_data.samples import Segment

__all__ = ["LABEL_FILE", "STD_FILE", "load_percepiano", "parse_key", "work_of"]

LABEL_FILE = "labels_root/label_2round_mean_reg_19_with0_rm_highstd0.json"
STD_FILE = "labels_root/label_2round_std_reg_19_with0_rm_highstd0.json"
_KEY = re.compile(r"^(?P<piece>.+_(?P<bars>\d+)bars)_(?P<player>[^_]+)_(?P<segment>[^_]+)$")


def parse_key(key: str) -> dict[str, str]:
    """Split ``Schubert_D960_mv3_8bars_12_4`` into piece, bars, player and segment."""
    m = _KEY.match(key.strip())
    if m is None:
        raise ValueError(f"not a PercePiano segment name: {key!r} (expected <piece>_<N>bars_<player>_<segment>)")
    return m.groupdict()


def work_of(piece: str) -> str:
    """The coarse work of a piece group: bar count and Beethoven variation number removed.

    ``Beethoven_WoO80_var27_8bars`` -> ``Beethoven_WoO80``; ``Schubert_D960_mv3_16bars`` -> ``Schubert_D960_mv3``.
    """
    parts = [p for p in piece.split("_") if not re.fullmatch(r"\d+bars|thema|var\d+", p)]
    return "_".join(parts)


def _read_json(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        raise PianoDataError(path, "PercePiano label file not found")
    data = read_json(path)
    if not isinstance(data, dict) or not data:
        raise PianoDataError(path, "expected a non-empty JSON object {segment_key: [values]}")
    return {str(k).strip(): v for k, v in data.items()}


def load_percepiano(root: str | PathLike[str], *, with_std: bool = True) -> list[Segment]:
    """Load every labelled PercePiano segment under ``root``, sorted by key.

    Raises :class:`PianoDataError` when the folder, a label file or a score MIDI is missing, when a label entry
    has the wrong length, or when label keys and MIDI files do not match one to one.
    """
    root = Path(root)
    midi_dir = root / "midi" / "all_2rounds"
    score_dir = root / "midi" / "score_midi"
    if not midi_dir.is_dir():
        raise PianoDataError(root, "not a PercePiano folder (midi/all_2rounds/ is missing)")
    labels = _read_json(root / LABEL_FILE)
    stds = _read_json(root / STD_FILE) if with_std and (root / STD_FILE).is_file() else {}

    midi_files = {p.name.strip()[: -len(".mid")]: p for p in midi_dir.glob("*.mid")}
    if not midi_files:
        raise PianoDataError(midi_dir, "no .mid files")
    missing_midi = sorted(set(labels) - set(midi_files))
    unlabelled = sorted(set(midi_files) - set(labels))
    if missing_midi or unlabelled:
        detail = []
        if missing_midi:
            detail.append(f"{len(missing_midi)} label keys have no MIDI file (e.g. {missing_midi[0]})")
        if unlabelled:
            detail.append(f"{len(unlabelled)} MIDI files have no label (e.g. {unlabelled[0]})")
        raise PianoDataError(root / LABEL_FILE, "labels and MIDI files do not match: " + "; ".join(detail))

    segments = []
    for key in sorted(labels):
        values = labels[key]
        if not isinstance(values, list) or len(values) < N_DIMS:
            raise PianoDataError(root / LABEL_FILE, f"entry {key!r} has {len(values)} values, expected {N_DIMS}+1")
        fields = parse_key(key)
        score = score_dir / f"{fields['piece']}_Score_{fields['segment']}.mid"
        if not score.is_file():
            raise PianoDataError(score, f"score MIDI for segment {key!r} not found")
        std = stds.get(key)
        segments.append(
            Segment(
                key=key,
                midi_path=midi_files[key],
                piece=fields["piece"],
                segment=fields["segment"],
                player=fields["player"],
                work=work_of(fields["piece"]),
                score_midi_path=score,
                labels=np.asarray(values[:N_DIMS], dtype=np.float64),
                label_std=None if std is None else np.asarray(std[:N_DIMS], dtype=np.float64),
                n_bars=int(fields["bars"]),
                source="percepiano",
                extra={"midi_sha1": hashlib.sha1(midi_files[key].read_bytes()).hexdigest()},
            )
        )
    return segments
