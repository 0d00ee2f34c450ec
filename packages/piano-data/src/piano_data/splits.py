"""Leakage-free split strategies over segments, and same-passage pair enumeration.

Every strategy returns :class:`Fold` objects of index arrays into the segment list. Groups never straddle a
fold boundary: all performances of one (piece, segment) passage sit together, and stricter strategies keep
whole works or performers together.

Passage groups are merged where two passages share a byte-identical input file (:func:`passage_groups`).

- ``piece4``: 4 folds over (piece, segment) groups. Works are dealt out separately (largest groups first, each
  to the fold with the fewest segments of that work, ties broken by total size then a seeded shuffle), so every
  fold holds a share of every work. Test = fold ``k``, train = the rest.
- ``work``: leave one coarse work out (4 folds on PercePiano: Beethoven WoO80, Schubert D935 no.3, D960 mv2,
  D960 mv3). The honest test of generalising to unseen music.
- ``performer``: 4 folds over performers, dealt out like ``piece4`` (``Score``/``Score2`` count as performers).
  The same passage by other performers stays in training: this measures generalisation to new players.
- ``soundfont``: for rendered audio, whose segments carry ``extra['soundfont']``. One fold per soundfont ``s``:
  test on the segments rendered with ``s`` whose passage lies in ``piece4`` fold ``i % 4``; train on the segments
  rendered with every other soundfont whose passage lies outside that fold. Both the timbre and the music of the
  test set are unseen (cross-soundfont leave-one-out).
- ``paper``: the PercePiano paper's protocol (seed 42): shuffle the (piece, segment) groups, draw groups of
  more than one performance into a fixed test set until it holds >= 15% of the data, give the remaining groups
  fold ``i % 4``. Fold ``k`` trains on the non-test groups outside fold ``k`` and tests on the fixed test set.
  For comparability it groups exactly as upstream does, by passage name, so it inherits upstream's leak of
  byte-identical files filed under two passage names; ``piece4`` does not.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from piano_data.samples import Segment

__all__ = [
    "SPLITS",
    "Fold",
    "holdout_groups",
    "make_folds",
    "passage_groups",
    "same_group_pairs",
]


@dataclass(frozen=True)
class Fold:
    index: int
    train: np.ndarray
    test: np.ndarray
    description: str = ""


def _groups(segments: Sequence[Segment], key: Callable[[Segment], str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(segments):
        out[key(s)].append(i)
    return dict(out)


def passage_groups(segments: Sequence[Segment]) -> list[str]:
    """Each segment's leakage group: its (piece, segment) passage, merged with every passage that shares an
    identical input file (``extra['midi_sha1']``, set by the PercePiano loader).

    PercePiano holds byte-identical MIDI files under different passage names (e.g. a D960 8-bar and 16-bar
    segment); without the merge one input could sit in training and test with different labels.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s in segments:
        find(s.group)
        sha = s.extra.get("midi_sha1")
        if sha:
            a, b = find(s.group), find(f"sha:{sha}")
            if a != b:
                parent[b] = a
    return [find(s.group) for s in segments]


def _passage_key(segments: Sequence[Segment]) -> Callable[[Segment], str]:
    merged = {id(s): g for s, g in zip(segments, passage_groups(segments), strict=True)}
    return lambda s: merged[id(s)]


def _deal(segments: Sequence[Segment], key: Callable[[Segment], str], n_folds: int, seed: int) -> list[list[int]]:
    """Deal whole groups into ``n_folds`` folds, balancing each work's share and the total size."""
    rng = random.Random(seed)
    groups = _groups(segments, key)
    by_work: dict[str, list[str]] = defaultdict(list)
    for name, idx in groups.items():
        by_work[segments[idx[0]].work].append(name)
    folds: list[list[int]] = [[] for _ in range(n_folds)]
    for work in sorted(by_work):
        names = sorted(by_work[work])
        rng.shuffle(names)
        names.sort(key=lambda n: -len(groups[n]))  # stable: shuffled order among equal sizes
        per_work = [0] * n_folds
        for name in names:
            target = min(range(n_folds), key=lambda f: (per_work[f], len(folds[f]), f))
            folds[target].extend(groups[name])
            per_work[target] += len(groups[name])
    return folds


def _from_test_sets(test_sets: list[list[int]], n: int, label: str) -> list[Fold]:
    everything = np.arange(n)
    out = []
    for k, test in enumerate(test_sets):
        test_idx = np.asarray(sorted(test), dtype=np.int64)
        out.append(Fold(k, np.setdiff1d(everything, test_idx), test_idx, f"{label} {k}"))
    return out


def _piece4(segments: Sequence[Segment], seed: int) -> list[Fold]:
    return _from_test_sets(_deal(segments, _passage_key(segments), 4, seed), len(segments), "piece fold")


def _performer(segments: Sequence[Segment], seed: int) -> list[Fold]:
    groups = _groups(segments, lambda s: s.player)
    rng = random.Random(seed)
    names = sorted(groups)
    rng.shuffle(names)
    names.sort(key=lambda n: -len(groups[n]))
    folds: list[list[int]] = [[] for _ in range(4)]
    for name in names:
        min(folds, key=len).extend(groups[name])
    return _from_test_sets(folds, len(segments), "performer fold")


def _work(segments: Sequence[Segment], seed: int) -> list[Fold]:
    works = _groups(segments, lambda s: s.work)
    names = sorted(works)
    out = _from_test_sets([works[w] for w in names], len(segments), "held-out work")
    return [Fold(f.index, f.train, f.test, f"held-out work {names[f.index]}") for f in out]


def _paper(segments: Sequence[Segment], seed: int) -> list[Fold]:
    rng = random.Random(42 if seed == 0 else seed)
    groups = _groups(segments, lambda s: s.group)  # upstream's grouping, duplicates not merged (see docstring)
    names = sorted(groups)
    rng.shuffle(names)
    test: list[int] = []
    rest: list[str] = []
    for name in names:
        if len(test) < 0.15 * len(segments) and len(groups[name]) > 1:
            test.extend(groups[name])
        else:
            rest.append(name)
    fold_of = {name: i % 4 for i, name in enumerate(rest)}
    test_idx = np.asarray(sorted(test), dtype=np.int64)
    out = []
    for k in range(4):
        train = sorted(i for name in rest if fold_of[name] != k for i in groups[name])
        out.append(Fold(k, np.asarray(train, dtype=np.int64), test_idx, f"paper split, fold {k} held out"))
    return out


def _soundfont(segments: Sequence[Segment], seed: int) -> list[Fold]:
    fonts = sorted({s.extra.get("soundfont", "") for s in segments})
    if "" in fonts or len(fonts) < 2:
        raise ValueError("split 'soundfont' needs rendered segments from at least two soundfonts (extra['soundfont'])")
    labels = passage_groups(segments)
    reps = [i for i, s in enumerate(segments) if s.extra["soundfont"] == fonts[0]]
    fold_of: dict[str, int] = {}
    for fold in _piece4([segments[i] for i in reps], seed):  # passages dealt once, shared by every soundfont
        for j in fold.test:
            fold_of[labels[reps[j]]] = fold.index
    for i, label in enumerate(labels):  # passages missing from the first soundfont's renders
        fold_of.setdefault(label, i % 4)
    out = []
    for k, font in enumerate(fonts):
        held = k % 4
        test = [i for i, s in enumerate(segments) if s.extra["soundfont"] == font and fold_of[labels[i]] == held]
        train = [i for i, s in enumerate(segments) if s.extra["soundfont"] != font and fold_of[labels[i]] != held]
        out.append(
            Fold(
                k,
                np.asarray(train, dtype=np.int64),
                np.asarray(test, dtype=np.int64),
                f"unseen soundfont {font}, unseen passages (piece fold {held})",
            )
        )
    return out


SPLITS: dict[str, Callable[[Sequence[Segment], int], list[Fold]]] = {
    "piece4": _piece4,
    "work": _work,
    "performer": _performer,
    "paper": _paper,
    "soundfont": _soundfont,
}


def make_folds(segments: Sequence[Segment], split: str, seed: int = 0) -> list[Fold]:
    """Folds of ``split`` (one of :data:`SPLITS`) over ``segments``; deterministic for a given seed."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    if len(segments) < 2:
        raise ValueError("need at least two segments to split")
    return SPLITS[split](segments, seed)


def holdout_groups(segments: Sequence[Segment], frac: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (train, validation) by whole passage groups, about ``frac`` held out."""
    groups = _groups(segments, _passage_key(segments))
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    val: list[int] = []
    for name in names:
        if len(val) >= frac * len(segments):
            break
        val.extend(groups[name])
    if len(val) == len(segments):  # a single group: nothing left to train on
        val = []
    val_idx = np.asarray(sorted(val), dtype=np.int64)
    return np.setdiff1d(np.arange(len(segments)), val_idx), val_idx


def same_group_pairs(groups: Sequence[str]) -> np.ndarray:
    """``[P, 2]`` index pairs ``(i, j)``, ``i < j``, of items in the same group (same passage)."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    pairs = [(a, b) for idx in by_group.values() for k, a in enumerate(idx) for b in idx[k + 1 :]]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
