"""Reference performances of the same score: a departure the references share is listed as "not sure" and does not
flag its bar; one they do not share stays a mistake; a reference of another piece is left out. On the small made-up
piece of ``test_practice_confidence`` (real aligner) and through ``piano-eval score --reference`` on the bundled
example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray, write_notes
from piano_eval.cli.main import main
from piano_eval.practice.analysis import analyse
from piano_eval.practice.example import Example, write_example
from piano_eval.practice.references import reference_departures
from piano_eval.practice.report import AnalysisConfig
from practice_helpers import FlatScorer
from test_practice_confidence import _perform, _score

MELODY_NOTE = (6.5, 71)  # bar 4, a plain melody quarter: missing it is a clear mistake on its own
EXTRA = (6.0, 39, 0.55, 70)  # a loud, long D#2 with bar 4's chord: a clear extra note on its own


def test_shared_missed_note_is_unsure_an_unshared_one_stays_a_mistake() -> None:
    score = _score()
    take = _perform(score, [MELODY_NOTE])
    alone = analyse(take, score, FlatScorer(), window_bars=2).bars[3]
    assert alone.missed == ["B4"] and alone.confidence == 1.0
    empty = analyse(take, score, FlatScorer(), window_bars=2, references=[])  # no references given: as without
    assert empty.references is None and empty.notes == analyse(take, score, FlatScorer(), window_bars=2).notes
    # two references leave the same note out (an edition without it): not this player's slip
    refs = [_perform(score, [MELODY_NOTE]), _perform(score, [MELODY_NOTE, (0.5, 74)])]
    report = analyse(take, score, FlatScorer(), window_bars=2, references=refs)
    bar = report.bars[3]
    assert not bar.flagged and bar.missed == []
    assert bar.unsure == [{"kind": "missed", "note": "B4", "why": "the references depart here too"}]
    assert report.references == {"used": ["reference 1", "reference 2"], "rejected": 0}
    assert any("compared with 2 reference performance(s)" in n for n in report.notes)
    # references that play the note as written: it stays a mistake
    clean = [_perform(score, []), _perform(score, [(0.5, 74)])]
    assert analyse(take, score, FlatScorer(), window_bars=2, references=clean).bars[3].missed == ["B4"]


def test_share_of_references_needed() -> None:
    score = _score()
    take = _perform(score, [MELODY_NOTE])
    refs = [_perform(score, [MELODY_NOTE])] + [_perform(score, []) for _ in range(4)]  # 1 of 5 share it
    deps = reference_departures(refs, score, AnalysisConfig())
    assert deps.n == 5 and deps.n_rejected == 0
    at_quarter = analyse(take, score, FlatScorer(), window_bars=2, references=deps).bars[3]
    assert at_quarter.missed == ["B4"]  # 1 of 5 is under the default quarter
    cfg = AnalysisConfig(reference_share=0.2)
    assert not analyse(take, score, FlatScorer(), window_bars=2, references=deps, cfg=cfg).bars[3].flagged


def test_shared_extra_note_is_unsure() -> None:
    score = _score()
    take = _perform(score, [], [EXTRA])
    assert analyse(take, score, FlatScorer(), window_bars=2).bars[3].extra == ["D#2"]
    ref = _perform(score, [], [(6.1, 39, 0.5, 72)])  # the reference adds the same key a tenth of a beat later
    bar = analyse(take, score, FlatScorer(), window_bars=2, references=[ref]).bars[3]
    assert not bar.flagged and bar.unsure == [{"kind": "extra", "note": "D#2", "why": "the references add it too"}]
    other = _perform(score, [], [(6.0, 40, 0.5, 72)])  # a reference adding another key does not excuse this one
    assert analyse(take, score, FlatScorer(), window_bars=2, references=[other]).bars[3].extra == ["D#2"]


def test_reference_of_another_piece_is_left_out() -> None:
    score = _score()
    rng = np.random.default_rng(0)
    on = np.sort(rng.uniform(0, 8, 40))
    stranger = NoteArray.from_arrays(on, on + 0.2, rng.integers(30, 100, 40), np.full(40, 70))
    deps = reference_departures([stranger, _perform(score, [MELODY_NOTE])], score, AnalysisConfig())
    assert deps.n == 1 and deps.n_rejected == 1
    report = analyse(_perform(score, [MELODY_NOTE]), score, FlatScorer(), window_bars=2, references=deps)
    assert report.references == {"used": ["reference 2"], "rejected": 1}
    assert any("1 left out" in n for n in report.notes) and not report.bars[3].flagged
    alone = analyse(_perform(score, [MELODY_NOTE]), score, FlatScorer(), window_bars=2, references=[stranger])
    assert alone.references == {"used": [], "rejected": 1} and alone.bars[3].missed == ["B4"]
    assert any(n.startswith("none of the 1 reference performance(s) follows this score") for n in alone.notes)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return write_example(tmp_path_factory.mktemp("example"))


def test_cli_reference_option(example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test group")
    from piano_eval.practice.render import load_schema

    argv = ["score", str(example.performance), "--score", str(example.score), "--format", "json"]
    # the example's own take as the reference: every departure is shared, none flags its bar
    assert main([*argv, "--reference", str(example.performance)]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, load_schema())
    assert doc["references"] == {"used": [str(example.performance)], "rejected": 0}
    played = [b for b in doc["bars"] if b["played"]]
    assert all(b["tempo_vs_references"] == pytest.approx(1.0, abs=1e-3) for b in played)  # its own tempo shape
    assert not [b["bar"] for b in doc["bars"] if b["flagged"]]
    assert {b["bar"] for b in doc["bars"] if b["unsure"]} >= {"5", "9", "12"}
    assert main([*argv[:-2], "--reference", str(example.performance)]) == 0  # text: says what was compared
    text = capsys.readouterr().out
    assert "compared with 1 reference performance(s)" in text and "departures the references share" in text
    # the score played as written as the reference: the example's mistakes stay mistakes
    assert main([*argv, "--reference", str(example.score)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {b["bar"] for b in doc["bars"] if b["flagged"]} == {"5", "9", "12"}
    # bad input: one line naming the file, nothing written
    out = tmp_path / "report.json"
    assert main(["score", str(example.performance), "--reference", str(example.score), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs --score" in err and str(example.score) in err
    empty = write_notes(NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), tmp_path / "e.mid")
    assert main([*argv, "--reference", str(empty), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "e.mid" in err and not out.exists()


def _slow_bar(notes: NoteArray, factor: float, start: float = 4.0 * 1.1, end: float = 6.0 * 1.1) -> NoteArray:
    """The performance with the span [start, end) (bar 3 of ``_perform``) taken ``factor`` times slower."""

    def warp(t: np.ndarray) -> np.ndarray:
        return np.where(t < start, t, np.where(t < end, start + factor * (t - start), t + (factor - 1) * (end - start)))

    return NoteArray.from_arrays(warp(notes.onset), warp(notes.offset), notes.pitch, notes.velocity)


def test_rubato_the_references_share_is_not_dragging() -> None:
    score = _score()
    take = _slow_bar(_perform(score, []), 1.4)
    bar = analyse(take, score, FlatScorer(), window_bars=2).bars[2]
    assert bar.tempo_vs_piece is not None and bar.tempo_vs_piece < 0.8
    assert any(r.startswith("dragging") and r.endswith("than your own tempo") for r in bar.remarks)
    # the references broaden the same bar: their rubato, not dragging
    shared = [_slow_bar(_perform(score, []), 1.4), _slow_bar(_perform(score, []), 1.3)]
    report = analyse(take, score, FlatScorer(), window_bars=2, references=shared)
    bar = report.bars[2]
    assert bar.tempo_vs_references == pytest.approx(1.0, abs=0.1) and not any("dragging" in r for r in bar.remarks)
    # references that keep their tempo: dragging, against them
    steady = [_perform(score, []), _perform(score, [])]
    bar = analyse(take, score, FlatScorer(), window_bars=2, references=steady).bars[2]
    assert bar.tempo_vs_references is not None and bar.tempo_vs_references < 0.8
    assert any(r.startswith("dragging") and r.endswith("than the references here (each against its own tempo)")
               for r in bar.remarks)  # fmt: skip


def test_bar_tempo_is_the_bars_own_span() -> None:
    from piano_eval.practice.note_classes import bar_spans, bar_tempo

    score = _score()
    steady = analyse(_perform(score, []), score, FlatScorer(), window_bars=2)
    assert [b.tempo_ratio for b in steady.bars] == pytest.approx([1 / 1.1] * 4, rel=0.02)
    slowed = analyse(_slow_bar(_perform(score, []), 1.4), score, FlatScorer(), window_bars=2)
    # only the slowed bar moves, by the whole factor (a local-tempo fit would spread it over the neighbours)
    assert [b.tempo_ratio for b in slowed.bars] == pytest.approx([1 / 1.1, 1 / 1.1, 1 / 1.54, 1 / 1.1], rel=0.02)
    played = np.array([True, False, True, True])
    from piano_symbolic.aligned import align_performance

    perf = _perform(score, [])
    spans = bar_spans(score, align_performance(perf, score, cache=False), float(perf.end_time))
    tempo = bar_tempo(*spans, played)
    assert np.isnan(tempo[1]) and tempo[0] == pytest.approx(1 / 1.1, rel=0.02)
