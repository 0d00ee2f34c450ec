"""Work folders are temporary unless kept; figures do not switch the global matplotlib backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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
