"""Work folders are temporary unless kept; figures do not switch the global matplotlib backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from piano_eval.workdir import work_folder


def test_work_folder_is_removed_even_on_error() -> None:
    with work_folder("piano-eval-test-") as path:
        (path / "checkpoints").mkdir()
        (path / "checkpoints" / "x.ckpt").write_bytes(b"0" * 10)
    assert not path.exists()
    with pytest.raises(RuntimeError), work_folder("piano-eval-test-") as failed:
        raise RuntimeError("boom")
    assert not failed.exists()


def test_work_folder_kept_on_request(caplog: pytest.LogCaptureFixture) -> None:
    with work_folder("piano-eval-test-", keep=True) as path:
        (path / "log.csv").write_text("a\n")
    try:
        assert (path / "log.csv").is_file()
        assert str(path) in caplog.text
    finally:
        import shutil

        shutil.rmtree(path)


def test_run_and_train_take_keep_workdir(tmp_path: Path) -> None:
    from piano_eval.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["run", "baseline-features", "--keep-workdir"]).keep_workdir is True
    assert parser.parse_args(["run", "baseline-features"]).keep_workdir is False
    assert parser.parse_args(["train", "s1", "--output", str(tmp_path), "--keep-workdir"]).keep_workdir is True


def test_figures_leave_the_matplotlib_backend_alone(tmp_path: Path) -> None:
    import matplotlib
    from piano_eval.plots import gate_weights

    with matplotlib.rc_context({"backend": "svg"}):  # the caller's choice; matplotlib.use("Agg") would reset it
        out = gate_weights(np.full((2, 19), 0.5), tmp_path / "g.png")
        assert matplotlib.rcParams["backend"] == "svg"
    assert out.is_file() and out.read_bytes()[:4] == b"\x89PNG"


class _Linear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 19), torch.nn.Sigmoid())

    def forward(self, batch: dict) -> torch.Tensor:
        return self.net(batch["x"])  # type: ignore[no-any-return]


def _global_state() -> dict[str, object]:
    """What a library call must leave as it found it."""
    import logging
    import os
    import random
    import sys
    import warnings

    import matplotlib

    root = logging.getLogger()
    return {
        "random": random.getstate(),
        "numpy": repr(np.random.get_state()),
        "torch": torch.get_rng_state().tolist(),
        "matplotlib backend": dict.__getitem__(matplotlib.rcParams, "backend"),  # read without resolving it
        "pyplot imported": "matplotlib.pyplot" in sys.modules,
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn benchmark": torch.backends.cudnn.benchmark,
        "torch threads": torch.get_num_threads(),
        "warning filters": list(warnings.filters),
        "root logging": (root.level, list(root.handlers)),
        "environment": dict(os.environ),
        "cwd": os.getcwd(),
    }


def test_a_fit_and_its_figures_leave_global_state_alone(tmp_path: Path) -> None:
    """One library path (a Lightning fit, then the figures of its results and logs) changes no global state:
    RNGs, matplotlib backend (no pyplot), torch flags and threads, warning filters, logging, environment."""
    import random

    from piano_data.contracts import DIMENSIONS
    from piano_eval.outputs import plot_training_curves
    from piano_eval.plots import per_dimension_r2
    from piano_eval.results import ResultsRecord
    from piano_eval.training import SupervisedModule, TrainConfig, fit_module
    from torch.utils.data import DataLoader

    x = torch.randn(16, 4)
    items = [{"x": x[i], "labels": torch.rand(19)} for i in range(16)]
    loader = DataLoader(items, batch_size=8)
    module = SupervisedModule(_Linear(), TrainConfig(max_epochs=2, progress_bar=False, seed=5))
    record = ResultsRecord.from_json(
        {
            "format": 1, "experiment": "x", "split": "piece4", "dataset": {"name": "synthetic"},
            "summary": {"per_dimension": {d: {"r2": 0.1} for d in DIMENSIONS}},
        }
    )  # fmt: skip
    torch.use_deterministic_algorithms(True)  # the caller's choice, which the Trainer must not overwrite
    try:
        random.seed(1)
        np.random.seed(2)
        torch.manual_seed(3)
        before = _global_state()
        fit_module(module, loader, loader, module.cfg, tmp_path / "fit")
        per_dimension_r2([record], tmp_path / "r2.png")
        assert plot_training_curves(tmp_path / "fit", tmp_path / "curves.png") is not None
        after = _global_state()
    finally:
        torch.use_deterministic_algorithms(False)
    assert {k: v for k, v in after.items() if before[k] != v} == {}
