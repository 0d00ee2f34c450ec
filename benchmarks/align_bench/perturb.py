"""Student-like perturbations of a performance, with its beat annotations moved to match.

Every perturbation is deterministic: the random generator is seeded by the performance and the kind
(:func:`seed_for`). Kinds (:data:`KINDS`):

- ``wrong``: 10% of the notes moved by 1-2 semitones (up or down);
- ``drop``: 15% of the notes removed;
- ``extra``: 10% more notes, each a copy of a random performed note, moved in time by up to 0.3 s and given
  another pitch (1-7 semitones away);
- ``restart``: at three points the player stops (notes sounding then are cut), pauses 0.8-1.2 s, goes back
  3-5 s of performance and plays on from there; the beats of a replayed span are scored against the take that
  continues (the later one);
- ``partial``: only a middle stretch is played (40% of the performance, starting 25-35% of the way in), moved
  to start at 1 s; the score stays whole; only the beats played are scored;
- ``student``: one restart, then 5% wrong, 5% dropped and 5% extra notes;
- ``clean``: the performance as it is (the baseline on the same performances; not in the default kinds).

Beat annotations: ASAP lists the same beats for score and performance, so a perturbation that moves
performance time (restarts, partial) moves each beat's performance time the same way; wrong, dropped and extra
notes leave them where they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from piano_data.midi import NoteArray

__all__ = ["KINDS", "Perturbed", "perturb", "seed_for"]

KINDS: tuple[str, ...] = ("wrong", "drop", "extra", "restart", "partial", "student", "clean")
_LOW, _HIGH = 21, 108


@dataclass(frozen=True)
class Perturbed:
    """A perturbed performance and its ground truth.

    ``beat_index`` selects the beats that are scored (indices into the original annotation), ``perf_beats``
    their times in the perturbed performance. ``restarts`` are the true (performance time of the new take's
    first note, score time it goes back to) pairs; ``played_span`` the true score span played (score seconds)
    and ``span_tolerance`` one beat at each end of it (score seconds), both None unless the kind is partial.
    """

    notes: NoteArray
    beat_index: np.ndarray
    perf_beats: np.ndarray
    restarts: tuple[tuple[float, float], ...] = ()
    played_span: tuple[float, float] | None = None
    span_tolerance: tuple[float, float] | None = None


def seed_for(key: str, kind: str) -> int:
    """The seed of ``kind`` on the performance ``key`` (e.g. its path relative to the data root)."""
    return int(hashlib.sha256(f"{key}|{kind}".encode()).hexdigest()[:16], 16)


def _notes(
    onset: np.ndarray, offset: np.ndarray, pitch: np.ndarray, velocity: np.ndarray, source: str | None
) -> NoteArray:
    order = np.lexsort((pitch, onset))
    offset = np.maximum(offset, onset + 0.02)
    return NoteArray.from_arrays(onset[order], offset[order], pitch[order], velocity[order], source=source)


def _arrays(notes: NoteArray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return notes.onset.copy(), notes.offset.copy(), notes.pitch.astype(np.int64), notes.velocity.astype(np.int64)


def wrong_notes(notes: NoteArray, rng: np.random.Generator, share: float) -> NoteArray:
    """``share`` of the notes moved by 1 or 2 semitones (inside the piano's range)."""
    on, off, pitch, vel = _arrays(notes)
    idx = rng.choice(len(pitch), size=round(share * len(pitch)), replace=False)
    step = rng.choice(np.array([-2, -1, 1, 2]), size=len(idx))
    moved = pitch[idx] + step
    moved = np.where((moved < _LOW) | (moved > _HIGH), pitch[idx] - step, moved)
    pitch[idx] = moved
    return _notes(on, off, pitch, vel, notes.source)


def drop_notes(notes: NoteArray, rng: np.random.Generator, share: float) -> NoteArray:
    """``share`` of the notes removed."""
    on, off, pitch, vel = _arrays(notes)
    keep = np.ones(len(on), dtype=bool)
    keep[rng.choice(len(on), size=round(share * len(on)), replace=False)] = False
    return _notes(on[keep], off[keep], pitch[keep], vel[keep], notes.source)


def extra_notes(notes: NoteArray, rng: np.random.Generator, share: float, jitter: float = 0.3) -> NoteArray:
    """``share`` x the note count of extra notes: copies of random notes, moved by up to ``jitter`` s, at
    another pitch (1-7 semitones away)."""
    on, off, pitch, vel = _arrays(notes)
    k = round(share * len(on))
    src = rng.integers(0, len(on), size=k)
    shift = rng.uniform(-jitter, jitter, size=k)
    step = rng.choice(np.array([-7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7]), size=k)
    new_pitch = pitch[src] + step
    new_pitch = np.where((new_pitch < _LOW) | (new_pitch > _HIGH), pitch[src] - step, new_pitch)
    new_on = np.maximum(on[src] + shift, 0.0)
    new_off = new_on + (off[src] - on[src])
    return _notes(
        np.concatenate([on, new_on]),
        np.concatenate([off, new_off]),
        np.concatenate([pitch, new_pitch]),
        np.concatenate([vel, vel[src]]),
        notes.source,
    )


def _beat_score_time(t: float, s_beats: np.ndarray, p_beats: np.ndarray) -> float:
    return float(np.interp(t, p_beats, s_beats))


def restarts(
    notes: NoteArray, s_beats: np.ndarray, p_beats: np.ndarray, rng: np.random.Generator, n: int
) -> tuple[NoteArray, np.ndarray, tuple[tuple[float, float], ...]]:
    """``n`` restarts spread over the performance (the k-th stops near ``(k + 1) / (n + 1)`` of the way): the
    new notes, every beat's performance time in the new timeline (the take that continues) and the true
    restarts."""
    on, off, pitch, vel = _arrays(notes)
    t0, t1 = float(on.min()), float(on.max())
    dur = t1 - t0
    stops, backs, pauses = [], [], []
    last = t0
    for k in range(n):
        back = float(rng.uniform(3.0, 5.0))
        stop = t0 + dur * ((k + 1) / (n + 1) + float(rng.uniform(-0.05, 0.05)))
        stop = max(stop, last + back + 1.0)  # each take replays music after the previous restart
        if stop >= t1 - 1.0:
            break
        stops.append(stop)
        backs.append(stop - back)
        pauses.append(float(rng.uniform(0.8, 1.2)))
        last = stop
    starts = [-np.inf, *backs]  # segment k plays original times [starts[k], ends[k])
    ends = [*stops, np.inf]
    offsets = [0.0]
    for k in range(len(stops)):
        offsets.append(offsets[-1] + (stops[k] - backs[k]) + pauses[k])
    parts = []
    truth = []
    for k in range(len(starts)):
        sel = (on >= starts[k]) & (on < ends[k])
        if not sel.any():
            continue
        parts.append((on[sel] + offsets[k], np.minimum(off[sel], ends[k]) + offsets[k], pitch[sel], vel[sel]))
        if k > 0:
            first = float(on[sel].min())
            truth.append((first + offsets[k], _beat_score_time(first, s_beats, p_beats)))
    on_, off_, pitch_, vel_ = (np.concatenate(x) for x in zip(*parts, strict=True))
    new = _notes(on_, off_, pitch_, vel_, notes.source)
    seg = np.searchsorted(np.array(starts[1:]), p_beats, side="right")  # the last take that plays each beat
    return new, p_beats + np.array(offsets)[seg], tuple(truth)


def partial(
    notes: NoteArray,
    s_beats: np.ndarray,
    p_beats: np.ndarray,
    rng: np.random.Generator,
    share: float = 0.4,
    lead_in: float = 1.0,
) -> tuple[NoteArray, np.ndarray, np.ndarray, tuple[float, float], tuple[float, float]]:
    """The middle ``share`` of the performance (starting 25-35% of the way in), moved to start at ``lead_in``
    s: the notes, the indices of the beats played, their new times, the true played score span and one beat
    at each end of it (score seconds)."""
    on, off, pitch, vel = _arrays(notes)
    t0, t1 = float(on.min()), float(on.max())
    start = t0 + (t1 - t0) * float(rng.uniform(0.25, 0.35))
    end = start + share * (t1 - t0)
    keep = (on >= start) & (on < end)
    first, last = float(on[keep].min()), float(on[keep].max())
    shift = lead_in - first
    new = _notes(on[keep] + shift, np.minimum(off[keep], end) + shift, pitch[keep], vel[keep], notes.source)
    played = np.flatnonzero((p_beats >= first - 0.03) & (p_beats <= last + 0.03))
    span = (_beat_score_time(first, s_beats, p_beats), _beat_score_time(last, s_beats, p_beats))
    gaps = np.diff(s_beats)
    k0 = int(np.clip(np.searchsorted(s_beats, span[0]), 1, len(s_beats) - 1))
    k1 = int(np.clip(np.searchsorted(s_beats, span[1]), 1, len(s_beats) - 1))
    return new, played, p_beats[played] + shift, span, (float(gaps[k0 - 1]), float(gaps[k1 - 1]))


def perturb(notes: NoteArray, s_beats: np.ndarray, p_beats: np.ndarray, kind: str, seed: int) -> Perturbed:
    """Apply perturbation ``kind`` (see :data:`KINDS`) to ``notes``, whose beats are at ``p_beats``
    (performance) and ``s_beats`` (score), with the generator seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    every = np.arange(len(p_beats))
    if kind == "clean":
        return Perturbed(notes, every, p_beats.copy())
    if kind == "wrong":
        return Perturbed(wrong_notes(notes, rng, 0.10), every, p_beats.copy())
    if kind == "drop":
        return Perturbed(drop_notes(notes, rng, 0.15), every, p_beats.copy())
    if kind == "extra":
        return Perturbed(extra_notes(notes, rng, 0.10), every, p_beats.copy())
    if kind == "restart":
        new, beats, truth = restarts(notes, s_beats, p_beats, rng, 3)
        return Perturbed(new, every, beats, truth)
    if kind == "partial":
        new, idx, beats, span, tol = partial(notes, s_beats, p_beats, rng)
        return Perturbed(new, idx, beats, (), span, tol)
    if kind == "student":
        new, beats, truth = restarts(notes, s_beats, p_beats, rng, 1)
        new = extra_notes(drop_notes(wrong_notes(new, rng, 0.05), rng, 0.05), rng, 0.05)
        return Perturbed(new, every, beats, truth)
    raise ValueError(f"unknown perturbation {kind!r}; choose from {KINDS}")
