"""The confidence rules of the bar feedback on a small made-up piece (4 bars of 4/4 at 120 quarters per minute,
real aligner): a left-out grace note, a bar mostly not found and a left-out inner chord note that doubles a
played one are listed as "not sure" and do not flag their bar, while the same departures on plain notes (a
melody note, two notes of a bar) still do; a lone inner note, an added octave doubling, a short note and a soft
extra note lower the confidence without unflagging, two of them together unflag."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_data.score import ScoreData, score_from_notes
from piano_eval.practice.analysis import analyse
from piano_eval.practice.render import load_schema, to_dict
from piano_eval.practice.report import AnalysisConfig, BarFeedback, PracticeReport
from practice_helpers import FlatScorer

# bar 1: a C major chord (C3 G3 C4 E4) under melody quarters; bar 2: a written-out trill D5-E5 in 32nds, then
# quarters; bar 3: melody eighths over two bass notes; bar 4: a chord and melody quarters, a grace note E5 before
# the third
MELODY = [(0.0, 72), (0.5, 74), (1.0, 76), (1.5, 77), (2.5, 72), (3.0, 71), (3.5, 69)]
MELODY += [(4.0 + 0.25 * i, p) for i, p in enumerate([65, 64, 62, 60, 62, 64, 65, 67])]
MELODY += [(6.0, 72), (6.5, 71), (7.0, 74), (7.5, 72)]
TRILL = [(2.0 + 0.0625 * i, 74 if i % 2 == 0 else 76) for i in range(8)]
GRACE = (6.9375, 76)
CHORDS = [
    (0.0, (48, 55, 60, 64), 2.0),
    (2.0, (43, 50), 2.0),
    (4.0, (41,), 1.0),
    (5.0, (43,), 1.0),
    (6.0, (48, 55, 64), 2.0),
]


_Flat = FlatScorer


def _score() -> ScoreData:
    rows = [(t, 0.25 if t >= 4.0 and t < 6.0 else 0.5, p) for t, p in MELODY]
    rows += [(t, 0.0625, p) for t, p in [*TRILL, GRACE]]
    rows += [(t, d, p) for t, ps, d in CHORDS for p in ps]
    rows.sort()
    on = np.array([r[0] for r in rows])
    dur = np.array([r[1] for r in rows])
    notes = NoteArray.from_arrays(on, on + dur - 0.01, np.array([r[2] for r in rows]), np.full(len(rows), 64))
    return score_from_notes(notes)


def _perform(
    score: ScoreData, drop: list[tuple[float, int]], add: Sequence[tuple[float, int, float, int]] = ()
) -> NoteArray:
    """The score as written (1.1 times slower, velocity 70) without the notes ``drop`` (score onset, pitch), with
    the notes ``add`` (score onset, pitch, duration in seconds, velocity)."""
    s = score.notes
    keep = np.ones(len(s), dtype=bool)
    for t, p in drop:
        keep &= ~((np.abs(s.onset - t) < 1e-6) & (s.pitch == p))
    on, off, pitch = s.onset[keep] * 1.1, s.offset[keep] * 1.1, s.pitch[keep]
    vel = np.full(len(on), 70)
    for t, p, d, v in add:
        on, off, pitch, vel = (
            np.append(on, 1.1 * t),
            np.append(off, 1.1 * t + d),
            np.append(pitch, p),
            np.append(vel, v),
        )
    return NoteArray.from_arrays(on, off, pitch, vel)


def _bars(perf: NoteArray, score: ScoreData, cfg: AnalysisConfig | None = None) -> list[BarFeedback]:
    report: PracticeReport = analyse(perf, score, _Flat(), cfg=cfg or AnalysisConfig(), window_bars=2)
    assert report.trusted
    return report.bars


def test_clean_take_has_no_departure() -> None:
    score = _score()
    bars = _bars(_perform(score, []), score)
    assert [b.flagged for b in bars] == [False] * 4 and all(b.confidence is None and not b.unsure for b in bars)


def test_left_out_grace_note_is_unsure_but_a_melody_note_is_a_mistake() -> None:
    score = _score()
    bars = _bars(_perform(score, [GRACE]), score)
    assert not bars[3].flagged and bars[3].missed == []
    assert bars[3].unsure == [{"kind": "missed", "note": "E5", "why": "ornament, short note"}]
    assert bars[3].confidence is not None and bars[3].confidence < 0.5
    assert "not sure: missed E5 (ornament, short note)" in bars[3].remarks
    bars = _bars(_perform(score, [(6.5, 71)]), score)
    assert bars[3].flagged and bars[3].missed == ["B4"] and bars[3].confidence == 1.0
    # with the rule off (factor 1) the grace note is a missed note again
    bars = _bars(_perform(score, [GRACE]), score, AnalysisConfig(doubt_ornament=1.0))
    assert bars[3].missed == ["E5"]


def test_bar_mostly_not_found_is_unsure() -> None:
    score = _score()
    gone = [(4.0 + 0.25 * i, p) for i, p in enumerate([65, 64, 62, 60, 62, 64]) if i > 0] + [(4.0, 41)]
    bars = _bars(_perform(score, gone), score)
    assert bars[2].played and not bars[2].flagged
    assert len(bars[2].unsure) == len(gone)
    assert all(u["why"].endswith("most of the bar not found") for u in bars[2].unsure)
    # two notes of ten are not "most of the bar": they stay mistakes
    bars = _bars(_perform(score, gone[:2]), score)
    assert bars[2].flagged and len(bars[2].missed) == 2


def test_inner_octave_doubling_is_unsure_a_lone_inner_note_is_not() -> None:
    score = _score()
    bars = _bars(_perform(score, [(0.0, 60)]), score)  # C4: inner, and the octave of the played C3
    assert not bars[0].flagged
    assert bars[0].unsure == [{"kind": "missed", "note": "C4", "why": "inner chord note, octave doubling"}]
    bars = _bars(_perform(score, [(0.0, 55)]), score)  # G3: inner only (0.6): still a mistake, less confident
    assert bars[0].missed == ["G3"] and bars[0].confidence == 0.6


def test_added_octave_doubling_is_less_confident_than_an_extra_note_off_the_chord() -> None:
    score = _score()
    bars = _bars(
        _perform(score, [], [(6.0, 36, 0.55, 70)]), score
    )  # C2 under the C3 of bar 4's chord: 0.6, still flagged
    assert bars[3].extra == ["C2"] and bars[3].confidence == 0.6
    bars = _bars(_perform(score, [], [(6.0, 36, 0.55, 70)]), score, AnalysisConfig(min_confidence=0.7))
    assert not bars[3].flagged and bars[3].unsure == [{"kind": "extra", "note": "C2", "why": "added octave doubling"}]
    bars = _bars(_perform(score, [], [(6.0, 39, 0.55, 70)]), score)  # D#2: not in the chord
    assert bars[3].extra == ["D#2"] and bars[3].confidence == 1.0


def test_report_with_unsure_departures_follows_the_schema() -> None:
    import jsonschema

    score = _score()
    report = analyse(_perform(score, [(0.0, 60), (3.0, 71)]), score, _Flat(), window_bars=2)
    doc = to_dict(report)
    jsonschema.validate(doc, load_schema())
    assert doc["schema"] == "piano-eval/score-report/2"
    assert doc["bars"][0]["unsure"] and doc["bars"][0]["flagged"] is False and doc["bars"][1]["flagged"] is True


def test_short_and_soft_departures_are_less_confident() -> None:
    score = _score()
    # a missed eighth (half a beat) is not short; counted short (under 0.6 beat here) it is less sure, still flagged
    assert _bars(_perform(score, [(4.5, 62)]), score)[2].confidence == 1.0
    bars = _bars(_perform(score, [(4.5, 62)]), score, AnalysisConfig(short_beats=0.6))
    assert bars[2].missed == ["D4"] and bars[2].confidence == 0.6
    # an extra D#2 with bar 4's chord: loud and long 1.0; soft (50 of 70) 0.6; soft and short (90 ms) not sure
    assert _bars(_perform(score, [], [(6.0, 39, 0.55, 50)]), score)[3].confidence == 0.6
    bars = _bars(_perform(score, [], [(6.0, 39, 0.09, 50)]), score)
    assert not bars[3].flagged and bars[3].unsure == [{"kind": "extra", "note": "D#2", "why": "short note, soft"}]


def test_min_confidence_option_moves_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``piano-eval score --min-confidence``: 0 reports the left-out grace note as a mistake, the default lists it as
    not sure; the report says which line it used; a value outside 0-1 is a one-line error and writes nothing."""
    import jsonschema
    from piano_data.midi import write_notes
    from piano_eval.cli.main import main

    score = _score()
    score_mid = write_notes(score.notes, tmp_path / "score.mid")
    take = write_notes(_perform(score, [GRACE]), tmp_path / "take.mid")
    docs = {}
    for level in (None, "0"):
        out = tmp_path / f"report_{level}.json"
        argv = ["score", str(take), "--score", str(score_mid), "--format", "json", "--output", str(out)]
        assert main(argv + (["--min-confidence", level] if level else [])) == 0
        docs[level] = json.loads(out.read_text())
        jsonschema.validate(docs[level], load_schema())
    bar4 = {k: d["bars"][3] for k, d in docs.items()}
    assert not bar4[None]["flagged"] and bar4[None]["unsure"][0]["note"] == "E5" and docs[None]["min_confidence"] == 0.5
    assert bar4["0"]["flagged"] and bar4["0"]["missed"] == ["E5"] and not bar4["0"]["unsure"]
    assert docs["0"]["min_confidence"] == 0.0
    capsys.readouterr()
    out = tmp_path / "never.json"
    argv = ["score", str(take), "--score", str(score_mid), "--output", str(out), "--min-confidence", "1.5"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--min-confidence must be between 0 and 1" in err[0] and not out.exists()
