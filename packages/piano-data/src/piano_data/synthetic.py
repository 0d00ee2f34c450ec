"""The embedded default corpus: small generated scores and performances with known, controlled deviations.

No download is needed to run the whole pipeline. Each score is a short two-hand passage (melody over broken
chords); each performance applies a player's deviations to it: timing jitter, tempo, dynamics level and range,
articulation (legato ratio), sustain pedal, and wrong notes. The 19 labels are fixed functions of those
deviations plus a little rater noise, so a model that hears the deviations can learn the labels, and the
result is reproducible from the seed alone. Layout and names mirror PercePiano (``<piece>_<N>bars_<player>_<seg>``)
so every split strategy works unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from piano_data.contracts import N_DIMS
from piano_data.midi import NoteArray, write_notes
from piano_data.paths import cache_root
from piano_data.samples import Segment

__all__ = ["SyntheticConfig", "default_cache_dir", "make_synthetic_corpus"]

_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])


@dataclass(frozen=True)
class SyntheticConfig:
    works: int = 4
    pieces_per_work: int = 2
    segments_per_piece: int = 4
    players: int = 7
    bars: int = 4
    seed: int = 0
    rater_noise: float = 0.03

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def default_cache_dir() -> Path:
    """``$PIANO_EVAL_CACHE/synthetic`` or ``~/.cache/piano-eval/synthetic``."""
    return cache_root() / "synthetic"


def _score(rng: np.random.Generator, bars: int, tonic: int) -> NoteArray:
    beat = 0.5  # 120 bpm
    onsets, offsets, pitches = [], [], []
    for bar in range(bars):
        root = tonic + int(_SCALE[rng.integers(0, 7)]) - 12
        for b in range(4):  # left hand: broken chord in eighths
            for k, interval in enumerate((0, 7)):
                t = (bar * 4 + b) * beat + k * beat / 2
                onsets.append(t)
                offsets.append(t + beat / 2)
                pitches.append(root + interval - 12 * (b % 2))
        t = bar * 4 * beat
        while t < (bar + 1) * 4 * beat - 1e-9:  # right hand: melody in quarters and eighths
            dur = beat if rng.random() < 0.6 else beat / 2
            onsets.append(t)
            offsets.append(t + dur)
            pitches.append(tonic + 12 + int(_SCALE[rng.integers(0, 7)]) + 12 * int(rng.integers(0, 2)))
            t += dur
    n = len(onsets)
    return NoteArray.from_arrays(np.array(onsets), np.array(offsets), np.array(pitches), np.full(n, 64))


def _player_traits(rng: np.random.Generator, deadpan: bool) -> dict[str, float]:
    if deadpan:
        return {
            "jitter": 0.0,
            "tempo": 1.0,
            "level": 0.5,
            "range": 0.1,
            "legato": 0.9,
            "pedal": 0.0,
            "wrong": 0.0,
        }
    return {
        "jitter": float(rng.uniform(0.0, 1.0)),
        "tempo": float(rng.uniform(0.8, 1.25)),
        "level": float(rng.uniform(0.2, 0.9)),
        "range": float(rng.uniform(0.0, 1.0)),
        "legato": float(rng.uniform(0.3, 1.2)),
        "pedal": float(rng.uniform(0.0, 1.0)),
        "wrong": float(rng.uniform(0.0, 1.0)),
    }


def _vary(traits: dict[str, float], rng: np.random.Generator) -> dict[str, float]:
    """A player's traits for one performance: the same habits, played a little differently each time."""
    if traits["jitter"] == 0.0 and traits["wrong"] == 0.0:
        return dict(traits)  # deadpan renditions are exact
    out = {k: v + float(rng.normal(0.0, 0.12)) * (0.3 if k == "tempo" else 1.0) for k, v in traits.items()}
    out = {k: float(np.clip(v, 0.0, 1.0)) for k, v in out.items() if k not in ("tempo", "legato")} | {
        "tempo": float(np.clip(out["tempo"], 0.75, 1.3)),
        "legato": float(np.clip(out["legato"], 0.25, 1.2)),
    }
    return out


def _perform(score: NoteArray, traits: dict[str, float], rng: np.random.Generator) -> NoteArray:
    n = len(score)
    scale = 1.0 / traits["tempo"]
    onset = score.onset * scale + rng.normal(0.0, 0.04 * traits["jitter"], n)
    onset = np.maximum(onset, 0.0)
    dur = (score.offset - score.onset) * scale * traits["legato"]
    phrase = np.sin(np.pi * score.onset / max(score.onset.max(), 1e-6))
    velocity = 30 + 80 * traits["level"] + 25 * traits["range"] * (phrase - 0.5) + rng.normal(0, 4, n)
    pitch = score.pitch.copy()
    wrong = rng.random(n) < 0.08 * traits["wrong"]
    pitch[wrong] += rng.choice([-2, -1, 1, 2], size=int(wrong.sum()))
    pedal = None
    if traits["pedal"] > 0.05:
        bar = 2.0 * scale
        n_bars = int(np.ceil(onset.max() / bar)) if n else 0
        pedal = np.array(
            [[i * bar + 0.05, i * bar + 0.05 + bar * (0.3 + 0.65 * traits["pedal"])] for i in range(n_bars)]
        )
    return NoteArray.from_arrays(onset, onset + dur, pitch, np.clip(np.round(velocity), 1, 127), pedal)


def _labels(traits: dict[str, float], mix: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    t = traits
    base = np.array(
        [
            t["jitter"],  # timing stable -> unstable
            1.0 - min(t["legato"], 1.2) / 1.2,  # articulation long -> short
            t["level"],  # soft -> hard
            t["pedal"],  # pedal dry -> wet
            t["pedal"] * (0.5 + 0.5 * t["legato"] / 1.2),  # clean -> blurred
        ]
    )
    feats = np.array([t["jitter"], t["tempo"] - 1.0, t["level"], t["range"], t["legato"], t["pedal"], t["wrong"]])
    rest = 0.5 + 0.35 * np.tanh(mix @ (feats - 0.5))
    rest[-1] = 1.0 - 0.6 * t["wrong"] - 0.3 * t["jitter"]  # interpretation: convincing without mistakes
    y = np.concatenate([0.15 + 0.7 * base, rest])[:N_DIMS]
    return np.clip(y + rng.normal(0.0, noise, N_DIMS), 0.0, 1.0)


def make_synthetic_corpus(cfg: SyntheticConfig = SyntheticConfig(), cache_dir: Path | None = None) -> list[Segment]:
    """Generate (or reuse) the corpus: MIDI files under ``cache_dir/<config digest>/``, labelled segments returned."""
    root = (cache_dir or default_cache_dir()) / cfg.digest()
    perf_dir, score_dir = root / "midi", root / "score_midi"
    rng = np.random.default_rng(cfg.seed)
    mix = rng.normal(0.0, 1.0, (N_DIMS - 5, 7))
    players = ["Score", *[str(i) for i in range(1, cfg.players)]]
    traits = {p: _player_traits(rng, p == "Score") for p in players}
    segments = []
    for w in range(cfg.works):
        work = f"Synth_W{w + 1}"
        for p in range(cfg.pieces_per_work):
            piece = f"{work}_p{p + 1}_{cfg.bars}bars"
            for seg in range(1, cfg.segments_per_piece + 1):
                score = _score(rng, cfg.bars, tonic=60 + int(rng.integers(-5, 6)))
                score_path = score_dir / f"{piece}_Score_{seg}.mid"
                if not score_path.is_file():
                    write_notes(score, score_path)
                for player in players:
                    key = f"{piece}_{player}_{seg}"
                    played = _vary(traits[player], rng)
                    perf = _perform(score, played, rng)
                    labels = _labels(played, mix, rng, cfg.rater_noise)
                    path = perf_dir / f"{key}.mid"
                    if not path.is_file():
                        write_notes(perf, path)
                    segments.append(
                        Segment(
                            key=key,
                            midi_path=path,
                            piece=piece,
                            segment=str(seg),
                            player=player,
                            work=work,
                            score_midi_path=score_path,
                            labels=labels,
                            label_std=np.full(N_DIMS, cfg.rater_noise),
                            n_bars=cfg.bars,
                            source="synthetic",
                        )
                    )
    return sorted(segments, key=lambda s: s.key)
