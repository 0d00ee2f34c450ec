"""Hostile input through ``piano-eval align``: random, truncated and bit-flipped MIDI bytes end with exit 2 and
one line on stderr (or a whole time map), never a traceback or a half-written output."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from piano_data.midi import NoteArray, write_notes
from piano_eval.cli.main import main


def _valid_midi(shift: float = 0.0) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        onset = np.arange(16) * 0.3 + shift
        pitch = 60 + (np.arange(16) * 5) % 12
        return write_notes(
            NoteArray.from_arrays(onset, onset + 0.25, pitch, np.full(16, 70)), Path(d) / "a.mid"
        ).read_bytes()


SCORE = _valid_midi()
PERF = _valid_midi(0.1)


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    cut = st.integers(0, len(valid)).map(lambda n: valid[:n])
    flips = st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)), min_size=1, max_size=6).map(
        lambda edits: bytes(_apply(bytearray(valid), edits))
    )
    return st.one_of(st.binary(max_size=1024), cut, flips, st.just(valid))


def _apply(b: bytearray, edits: list[tuple[int, int]]) -> bytearray:
    for i, v in edits:
        b[i] = v
    return b


@settings(
    deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(perf=_mutations(PERF), score=_mutations(SCORE))
def test_align_cli_on_hostile_midi(perf: bytes, score: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    d = Path(tempfile.mkdtemp(prefix="fuzz-align-"))
    (d / "perf.mid").write_bytes(perf)
    (d / "score.mid").write_bytes(score)
    out = d / "map.csv"
    capsys.readouterr()
    code = main(["--quiet", "align", str(d / "perf.mid"), str(d / "score.mid"), "--output", str(out)])
    err = capsys.readouterr().err.strip()
    if code in (0, 3):  # 3: aligned, with a documented warning flag (e.g. performance_longer_than_score)
        assert out.is_file() and out.read_text().count("\n") >= 2
        assert "Traceback" not in err
        assert code == 0 or "piano-eval align: warning: " in err, err
    else:
        assert code == 2, err
        lines = [line for line in err.splitlines() if not line.startswith("WARNING")]
        assert len(lines) == 1 and lines[0].startswith("piano-eval align: error: "), err
        assert "Traceback" not in err and not out.exists()
    assert not list(d.glob(".*.tmp"))
