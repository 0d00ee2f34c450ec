"""``benchmarks/paired_bootstrap.py`` (not shipped in a wheel; imported from the repository): per-passage pair
counts summed back give exactly the fold metric of :mod:`piano_eval.metrics`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from piano_eval.metrics import pairwise_accuracy

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "paired_bootstrap.py"
if not SCRIPT.is_file():
    pytest.skip("benchmarks/paired_bootstrap.py is not in this checkout", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("paired_bootstrap", SCRIPT)
assert _spec is not None and _spec.loader is not None
boot = importlib.util.module_from_spec(_spec)
sys.modules["paired_bootstrap"] = boot
_spec.loader.exec_module(boot)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_summed_passage_counts_give_the_fold_metric(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = [f"g{int(g)}" for g in rng.integers(0, 7, 40)] + ["lonely"]
    labels = rng.uniform(0, 1, (len(groups), 5))
    labels[:, 4] = 0.5  # a dimension without any unambiguous pair
    pred = labels + rng.normal(0, 0.2, labels.shape)
    pred[:3] = pred[0]  # ties count half
    right, valid = boot.passage_counts(labels, pred, groups)
    assert right.shape == valid.shape == (8, 5) and not valid[:, 4].any()
    assert float(boot.accuracy(right, valid)) == pytest.approx(pairwise_accuracy(labels, pred, groups), abs=1e-12)
    # a passage drawn twice counts twice: the resampled accuracy weighs it double
    idx = np.array([0, 0, 1, 2, 3, 4, 5, 6])
    twice = [*groups, *[f"{g}'" for g in groups if g == "g0"]]
    doubled = np.concatenate([labels, labels[[j for j, g in enumerate(groups) if g == "g0"]]])
    doubled_pred = np.concatenate([pred, pred[[j for j, g in enumerate(groups) if g == "g0"]]])
    expected = pairwise_accuracy(doubled, doubled_pred, twice)
    assert float(boot.accuracy(right[idx], valid[idx])) == pytest.approx(expected, abs=1e-12)
