from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.midi import NoteArray, read_notes
from piano_symbolic.s2 import EDGE_TYPES, build_note_graph, estimate_voices
from symbolic_testing import percepiano_files


@st.composite
def note_arrays(draw: st.DrawFn) -> NoteArray:
    n = draw(st.integers(1, 30))
    cells = draw(st.lists(st.tuples(st.integers(0, 60), st.integers(21, 108)), min_size=n, max_size=n, unique=True))
    dur = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    vel = draw(st.lists(st.integers(1, 127), min_size=n, max_size=n))
    onset = np.array([c[0] for c in cells]) * 0.1
    return NoteArray.from_arrays(onset, onset + np.array(dur) * 0.1, [c[1] for c in cells], vel, np.array([[0.5, 1.5]]))


def _permuted(notes: NoteArray, perm: np.ndarray) -> NoteArray:
    # bypass from_arrays' sorting: the graph builder must not depend on the input order
    return NoteArray(notes.onset[perm], notes.offset[perm], notes.pitch[perm], notes.velocity[perm], notes.pedal)


def _canonical(g) -> tuple[Counter, Counter]:
    node_key = [
        (round(float(o), 4), int(p), tuple(np.round(x.numpy(), 4)))
        for o, p, x in zip(g.onset, g.pitch, g.x, strict=True)
    ]
    nodes = Counter(node_key)
    s, d = g.edge_index.numpy()
    edges = Counter((node_key[i], node_key[j], int(t)) for i, j, t in zip(s, d, g.edge_type.numpy(), strict=True))
    return nodes, edges


@settings(max_examples=30, deadline=None)
@given(note_arrays(), st.randoms(use_true_random=False))
def test_graph_invariants(notes: NoteArray, rnd) -> None:
    g = build_note_graph(notes)
    n = len(notes)
    assert g.num_nodes == n and g.x.shape == (n, 5)
    assert sorted(g.pitch.tolist()) == sorted(notes.pitch.tolist())
    ei = g.edge_index
    assert ei.numel() == 0 or (int(ei.min()) >= 0 and int(ei.max()) < n)
    assert not bool((ei[0] == ei[1]).any())  # no self loops
    assert set(g.edge_type.tolist()) <= set(range(len(EDGE_TYPES)))
    # every edge is stored in both directions with the same type
    fwd = set(zip(ei[0].tolist(), ei[1].tolist(), g.edge_type.tolist(), strict=True))
    assert fwd == {(j, i, t) for i, j, t in fwd}
    assert (g.onset[1:] >= g.onset[:-1]).all()  # time-ordered nodes
    perm = np.array(rnd.sample(range(n), n))
    assert _canonical(build_note_graph(_permuted(notes, perm))) == _canonical(g)


def test_known_small_graph() -> None:
    # C-E-G chord, then C5 while the chord still sounds, then D5 after everything ended
    notes = NoteArray.from_arrays([0, 0, 0, 0.5, 2.0], [1, 1, 1, 1.5, 2.5], [60, 64, 67, 72, 74], [60] * 5)
    g = build_note_graph(notes)
    count = Counter(g.edge_type.tolist())
    assert count[EDGE_TYPES.index("simultaneous")] == 6  # 3 pairs x 2 directions
    assert count[EDGE_TYPES.index("adjacent")] == 2 * (3 + 1)
    assert count[EDGE_TYPES.index("overlap")] == 2 * 3
    # harmonic: C-E (4), C-G (7), E-G (3), C-C5 (12), E-C5 (8), G-C5 (5 -> not consonant here)
    assert count[EDGE_TYPES.index("harmonic")] == 2 * 5
    assert estimate_voices(np.array([67, 64, 60, 72, 74]), np.array([0, 0, 0, 1, 2])).tolist() == [
        0,
        1,
        2,
        0,
        0,
    ]


@pytest.mark.parametrize("path", percepiano_files(2) or [None])
def test_real_file_graph(path) -> None:
    if path is None:
        pytest.skip("shared/data/percepiano not found")
    notes = read_notes(path)
    g = build_note_graph(notes)
    assert g.num_nodes == len(notes)
    assert len(set(g.edge_type.tolist())) == len(EDGE_TYPES)
