"""baseline-features' passage-relative inputs: known answers, and no label or other passage leaks in."""

from __future__ import annotations

import numpy as np
import pytest
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.features import FeatureBaseline, passage_relative
from piano_symbolic.features import FEATURE_NAMES


def test_passage_relative_known_answer() -> None:
    x = np.array([[1.0, 10.0], [3.0, 14.0], [5.0, 0.0]])
    out = passage_relative(x, ["a", "a", "b"])
    np.testing.assert_array_equal(out[:, :2], x)
    np.testing.assert_array_equal(out[:, 2:], [[-1.0, -2.0], [1.0, 2.0], [0.0, 0.0]])  # a lone row: zeros


def test_relative_half_depends_only_on_the_same_passage_in_the_same_set() -> None:
    segs = make_synthetic_corpus(SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=3))
    exp = FeatureBaseline({"passage_relative": True})
    exp.prepare(segs, RunContext(workdir=None))  # type: ignore[arg-type]
    n = len(FEATURE_NAMES)
    full = exp._x(segs)
    assert full.shape == (len(segs), 2 * n)
    group = segs[0].group
    same = [s for s in segs if s.group == group]
    alone = exp._x(same)  # the other passages gone: the same relative features
    np.testing.assert_allclose(alone, full[[i for i, s in enumerate(segs) if s.group == group]])
    for g in {s.group for s in segs}:
        rows = [i for i, s in enumerate(segs) if s.group == g]
        np.testing.assert_allclose(full[rows, n:].sum(axis=0), 0.0, atol=1e-9)


def test_config_is_typed() -> None:
    from piano_eval.errors import UsageError

    with pytest.raises(UsageError, match=r"model must be one of 'mlp', 'ridge', got 'svm'"):
        FeatureBaseline({"model": "svm"})
    with pytest.raises(UsageError, match=r"passage_relative must be true or false"):
        FeatureBaseline({"passage_relative": "yes"})
    assert FeatureBaseline({"ensemble": "5"}).config["ensemble"] == 5
