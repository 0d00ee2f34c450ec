from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.percepiano import load_percepiano
from piano_data.samples import Segment
from piano_data.splits import SPLITS, holdout_groups, make_folds, same_group_pairs


def _segments(spec: list[tuple[int, int, int]]) -> list[Segment]:
    """spec: (work, piece, player) triples -> segments, segment id = piece % 3."""
    out = []
    for i, (w, p, pl) in enumerate(spec):
        piece = f"W{w}_p{p}_8bars"
        out.append(
            Segment(
                key=f"{piece}_{pl}_{p % 3}_{i}",
                midi_path=Path("x.mid"),
                piece=piece,
                segment=str(p % 3),
                player=str(pl),
                work=f"W{w}",
            )
        )
    return out


specs = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 9), st.integers(0, 6)), min_size=8, max_size=80)


GROUP_SPLITS = sorted(set(SPLITS) - {"soundfont"})


@settings(max_examples=60, deadline=None)
@given(specs, st.sampled_from(GROUP_SPLITS), st.integers(0, 5))
def test_no_group_in_two_places(spec: list, split: str, seed: int) -> None:
    segments = _segments(spec)
    folds = make_folds(segments, split, seed)
    key = {
        "piece4": lambda s: s.group,
        "paper": lambda s: s.group,
        "work": lambda s: s.work,
        "performer": lambda s: s.player,
    }[split]
    seen: dict[str, int] = {}
    for f in folds:
        train_keys = {key(segments[i]) for i in f.train}
        test_keys = {key(segments[i]) for i in f.test}
        assert not train_keys & test_keys, "a group is in train and test of one fold"
        assert len(set(f.train.tolist()) & set(f.test.tolist())) == 0
        if split != "paper":  # paper tests every fold on the same fixed set
            for k in test_keys:
                assert seen.setdefault(k, f.index) == f.index, "a group is tested in two folds"
    if split in ("piece4", "work", "performer"):
        tested = np.concatenate([f.test for f in folds])
        assert sorted(tested.tolist()) == list(range(len(segments))), "every segment is tested exactly once"


@settings(max_examples=30, deadline=None)
@given(specs, st.sampled_from(GROUP_SPLITS), st.integers(0, 3))
def test_deterministic(spec: list, split: str, seed: int) -> None:
    a = make_folds(_segments(spec), split, seed)
    b = make_folds(_segments(spec), split, seed)
    assert all(np.array_equal(x.test, y.test) and np.array_equal(x.train, y.train) for x, y in zip(a, b, strict=True))


def test_unknown_split() -> None:
    with pytest.raises(ValueError, match="unknown split 'nope'"):
        make_folds(_segments([(0, 0, 0), (0, 1, 1)]), "nope")


def test_holdout_and_pairs() -> None:
    segments = _segments([(0, p, pl) for p in range(6) for pl in range(4)])
    train, val = holdout_groups(segments, 0.2, seed=1)
    assert {segments[i].group for i in train}.isdisjoint({segments[i].group for i in val})
    assert len(val) > 0
    pairs = same_group_pairs([s.group for s in segments])
    assert all(segments[i].group == segments[j].group and i < j for i, j in pairs)
    assert len(pairs) == sum(n * (n - 1) // 2 for n in Counter(s.group for s in segments).values())


def test_real_splits(percepiano_root: Path) -> None:
    segments = load_percepiano(percepiano_root)
    piece4 = make_folds(segments, "piece4")
    assert len(piece4) == 4
    for f in piece4:  # every work is represented in every fold's test set
        assert {segments[i].work for i in f.test} == {s.work for s in segments}
        assert 0.2 < len(f.test) / len(segments) < 0.3
    work = make_folds(segments, "work")
    assert sorted(len({segments[i].work for i in f.test}) for f in work) == [1, 1, 1, 1]
    paper = make_folds(segments, "paper")
    test = paper[0].test
    assert len(test) >= 0.15 * len(segments)
    assert all(np.array_equal(f.test, test) for f in paper)


@settings(max_examples=30, deadline=None)
@given(specs, st.integers(2, 4), st.integers(0, 3))
def test_soundfont_split_unseen_font_and_passage(spec: list, n_fonts: int, seed: int) -> None:
    from dataclasses import replace

    base = _segments(spec)
    segments = [replace(s, key=f"{s.key}@{f}", extra={"soundfont": f"sf{f}"}) for s in base for f in range(n_fonts)]
    folds = make_folds(segments, "soundfont", seed)
    assert len(folds) == n_fonts
    for f in folds:
        test_fonts = {segments[i].extra["soundfont"] for i in f.test}
        assert len(test_fonts) <= 1
        assert not test_fonts & {segments[i].extra["soundfont"] for i in f.train}
        assert not {segments[i].group for i in f.test} & {segments[i].group for i in f.train}
    with pytest.raises(ValueError, match="at least two soundfonts"):
        make_folds(base, "soundfont")


def test_identical_files_merge_passages() -> None:
    from dataclasses import replace

    from piano_data.splits import passage_groups

    segments = _segments([(0, p, pl) for p in range(8) for pl in range(3)])
    # the same file under two passage names (as PercePiano's D960 8-bar/16-bar duplicates)
    segments[0] = replace(segments[0], extra={"midi_sha1": "abc"})
    segments[-1] = replace(segments[-1], extra={"midi_sha1": "abc"})
    labels = passage_groups(segments)
    assert labels[0] == labels[-1] and len(set(labels)) == len({s.group for s in segments}) - 1
    for f in make_folds(segments, "piece4"):
        assert not ({0, len(segments) - 1} & set(f.test.tolist()) and {0, len(segments) - 1} & set(f.train.tolist()))


def test_real_duplicates_never_straddle(percepiano_root: Path) -> None:
    segments = load_percepiano(percepiano_root)
    by_sha: dict[str, set[int]] = {}
    for i, s in enumerate(segments):
        by_sha.setdefault(s.extra["midi_sha1"], set()).add(i)
    dups = [idx for idx in by_sha.values() if len(idx) > 1]
    assert dups, "PercePiano ships byte-identical MIDI files under different names"
    for f in make_folds(segments, "piece4"):
        train, test = set(f.train.tolist()), set(f.test.tolist())
        assert all(not (idx & train and idx & test) for idx in dups)
