from __future__ import annotations

import io
import sys

import pytest
from piano_data.progress import QUIET_ENV, progress_disabled, quiet_progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_only_on_a_terminal_and_never_when_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(QUIET_ENV, raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a log file or a pipe
    assert progress_disabled()
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert not progress_disabled() and progress_disabled(progress=False)
    with quiet_progress(True):
        assert progress_disabled()
    assert not progress_disabled()  # the previous setting is back
    with quiet_progress(False):
        assert not progress_disabled()


def test_render_draws_no_bar_into_a_log(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from piano_data.midi import NoteArray, write_notes
    from piano_data.render import render_all
    from piano_data.samples import Segment

    monkeypatch.setenv("PIANO_EVAL_CACHE", str(tmp_path / "root"))
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    onset = np.arange(3) * 0.2
    midi = write_notes(
        NoteArray.from_arrays(onset, onset + 0.2, np.array([60, 62, 64]), np.full(3, 80)), tmp_path / "a.mid"
    )
    render_all([Segment("k", midi, "p", "1", "a", "w")], ["timgm6mb"], tmp_path / "cache")  # progress=True
    assert "\r" not in log.getvalue() and "render" not in log.getvalue()
