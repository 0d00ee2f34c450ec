"""The note graph of a performance: one node per note, five typed edge families.

Nodes (in canonical order: onset, pitch, offset, velocity) carry the pitch and five continuous features
``[velocity/127, log1p(10 * duration)/3, log1p(10 * IOI)/3, pedal down at onset, pedal down at offset]``
where IOI is
the gap to the previous onset group. Edges are stored in both directions, with types:

0. temporal adjacency: every note of an onset group to every note of the next group;
1. simultaneous onsets: notes whose onsets fall within ``chord_tol`` of their group's first onset;
2. sustained overlap: a note starts while another (of an earlier group) still sounds;
3. harmonic interval: simultaneous or overlapping notes a consonant interval apart (3, 4, 7, 8, 9 semitones
   or octaves, modulo 12);
4. voice membership: consecutive notes of one estimated voice (a greedy nearest-pitch voice tracker, since
   performance MIDI has no voices).

Edge attributes are the one-hot type and the pitch difference / 12. Onset times are deliberately left out of
the
edges so that masked timing prediction cannot read them from neighbours.
"""

from __future__ import annotations

import numpy as np
import torch
from piano_data.midi import NoteArray
from torch_geometric.data import Data

__all__ = ["EDGE_TYPES", "N_NODE_FEATURES", "build_note_graph", "canonical_order", "estimate_voices"]

EDGE_TYPES: tuple[str, ...] = ("adjacent", "simultaneous", "overlap", "harmonic", "voice")
N_NODE_FEATURES = 5
_CONSONANT = np.array([0, 3, 4, 7, 8, 9])


def canonical_order(notes: NoteArray) -> np.ndarray:
    """Indices sorting notes by (onset, pitch, offset, velocity): the node order of the graph."""
    return np.lexsort((notes.velocity, notes.offset, notes.pitch, notes.onset))


def _onset_groups(onset: np.ndarray, tol: float) -> np.ndarray:
    group = np.zeros(len(onset), dtype=np.int64)
    start = onset[0] if len(onset) else 0.0
    for i in range(1, len(onset)):
        if onset[i] - start > tol:
            start = onset[i]
            group[i] = group[i - 1] + 1
        else:
            group[i] = group[i - 1]
    return group


def estimate_voices(pitch: np.ndarray, group: np.ndarray, max_leap: int = 12) -> np.ndarray:
    """Greedy voice ids: each note joins the free voice with the nearest last pitch (within ``max_leap``)."""
    voice = np.zeros(len(pitch), dtype=np.int64)
    last_pitch: list[int] = []
    last_group: list[int] = []
    for g in np.unique(group):
        idx = np.nonzero(group == g)[0]
        idx = idx[np.argsort(-pitch[idx], kind="stable")]
        taken: set[int] = set()
        for i in idx:
            best, best_d = -1, max_leap + 1
            for v, (lp, lg) in enumerate(zip(last_pitch, last_group, strict=True)):
                d = abs(int(pitch[i]) - lp)
                if lg < g and v not in taken and d < best_d:
                    best, best_d = v, d
            if best < 0:
                best = len(last_pitch)
                last_pitch.append(0)
                last_group.append(-1)
            taken.add(best)
            last_pitch[best], last_group[best] = int(pitch[i]), int(g)
            voice[i] = best
    return voice


def build_note_graph(notes: NoteArray, *, chord_tol: float = 0.03) -> Data:
    """Build the graph of ``notes`` (any note order: nodes are put in :func:`canonical_order`).

    Returns a ``torch_geometric`` ``Data`` with ``pitch [N]``, ``x [N, 5]``, ``edge_index [2, E]``,
    ``edge_type [E]``, ``edge_attr [E, 6]``, ``onset [N]`` (seconds, for ordering) and ``num_nodes = N``.
    """
    order = canonical_order(notes)
    onset, offset = notes.onset[order], notes.offset[order]
    pitch, vel = notes.pitch[order].astype(np.int64), notes.velocity[order]
    n = len(onset)
    group = _onset_groups(onset, chord_tol) if n else np.zeros(0, dtype=np.int64)
    g_on = np.array([onset[group == g][0] for g in range(int(group.max()) + 1)]) if n else np.zeros(0)
    ioi = np.where(group > 0, g_on[group] - g_on[np.maximum(group - 1, 0)], 0.0)
    x = (
        np.stack(
            [
                np.clip(vel, 0, 127) / 127.0,
                np.log1p(10 * np.maximum(offset - onset, 0)) / 3,
                np.log1p(10 * ioi) / 3,
                notes.pedal_down(onset),
                notes.pedal_down(offset - 1e-6),
            ],
            axis=1,
        ).astype(np.float32)
        if n
        else np.zeros((0, N_NODE_FEATURES), np.float32)
    )

    gi, gj = group[:, None], group[None, :]
    eye = np.eye(n, dtype=bool)
    same = (gi == gj) & ~eye
    adjacent = gj == gi + 1
    overlap = (gi < gj) & (onset[None, :] < offset[:, None])
    interval = np.abs(pitch[:, None] - pitch[None, :])
    harmonic = (same | overlap) & (interval > 0) & np.isin(interval % 12, _CONSONANT)
    voice = estimate_voices(pitch, group) if n else np.zeros(0, dtype=np.int64)
    voice_next = np.zeros((n, n), dtype=bool)
    for v in np.unique(voice):
        members = np.nonzero(voice == v)[0]
        voice_next[members[:-1], members[1:]] = True

    src, dst, typ = [], [], []
    for t, m in enumerate((adjacent, same, overlap, harmonic, voice_next)):
        sym = m | m.T
        i, j = np.nonzero(sym)
        src.append(i)
        dst.append(j)
        typ.append(np.full(len(i), t))
    s = np.concatenate(src).astype(np.int64)
    d = np.concatenate(dst).astype(np.int64)
    et = np.concatenate(typ).astype(np.int64)
    attr = np.zeros((len(s), len(EDGE_TYPES) + 1), np.float32)
    attr[np.arange(len(s)), et] = 1.0
    attr[:, -1] = (pitch[d] - pitch[s]) / 12.0 if len(s) else 0.0
    return Data(
        x=torch.from_numpy(x),
        pitch=torch.from_numpy(pitch),
        onset=torch.from_numpy(onset.astype(np.float32)),
        edge_index=torch.from_numpy(np.stack([s, d])),
        edge_type=torch.from_numpy(et),
        edge_attr=torch.from_numpy(attr),
        num_nodes=n,
    )
