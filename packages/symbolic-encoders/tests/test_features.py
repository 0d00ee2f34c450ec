from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_data.paths import find_data_root
from piano_data.score import score_from_notes
from piano_symbolic.aligned import align_performance
from piano_symbolic.features import FEATURE_NAMES, extract_features, features_for_files


def _score() -> NoteArray:
    on = np.arange(16) * 0.5
    return NoteArray.from_arrays(on, on + 0.45, 60 + (np.arange(16) % 8), np.full(16, 64))


def test_identity_performance_has_no_deviation() -> None:
    s = _score()
    f = dict(zip(FEATURE_NAMES, extract_features(s, s, cache=False), strict=True))
    assert len(FEATURE_NAMES) == len(extract_features(s, s, cache=False))
    assert f["has_score"] == 1.0 and f["match_rate"] == 1.0
    assert f["tempo_ratio"] == pytest.approx(1.0)
    assert f["onset_dev_std"] == pytest.approx(0.0, abs=1e-9)
    assert f["onset_dev_abs_mean"] == pytest.approx(0.0, abs=1e-9) and f["tempo_curve_std"] == pytest.approx(0.0)
    assert f["artic_log_mean"] == pytest.approx(0.0, abs=1e-9) and f["align_confidence"] == 1.0
    assert f["missed_rate"] == 0.0 and f["extra_rate"] == 0.0
    assert f["ioi_mean"] == pytest.approx(0.5)
    assert f["legato_ratio_mean"] == pytest.approx(0.9)


def test_known_deviations() -> None:
    s = _score()
    slow = NoteArray.from_arrays(s.onset * 1.25, s.offset * 1.25, s.pitch, s.velocity + 20)
    f = dict(zip(FEATURE_NAMES, extract_features(slow, s, cache=False), strict=True))
    assert f["tempo_ratio"] == pytest.approx(1.25)
    assert f["onset_dev_abs_mean"] == pytest.approx(0.0, abs=1e-9)  # a uniform stretch is not a deviation
    # one note late by a quarter beat: its deviation is 0.25 beat, one note in 16
    late_on = slow.onset.copy()
    late_on[6] += 0.25 * 0.5 * 1.25
    late = NoteArray.from_arrays(late_on, slow.offset, s.pitch, s.velocity)
    g = dict(zip(FEATURE_NAMES, extract_features(late, s, cache=False), strict=True))
    assert g["onset_dev_abs_mean"] == pytest.approx(0.25 / 16)
    assert g["onset_dev_mean"] == pytest.approx(0.25 / 16)
    # the aligned representation can be passed in directly
    aligned = align_performance(late, score_from_notes(s), cache=False)
    np.testing.assert_allclose(extract_features(late, aligned=aligned), list(g.values()))
    assert f["vel_mean"] == pytest.approx(84.0)
    keep = np.arange(16) != 3  # one missed note
    missed = NoteArray.from_arrays(s.onset[keep], s.offset[keep], s.pitch[keep], s.velocity[keep])
    g = dict(zip(FEATURE_NAMES, extract_features(missed, s, cache=False), strict=True))
    assert g["missed_rate"] == pytest.approx(1 / 16) and g["match_rate"] == pytest.approx(15 / 16)
    assert g["extra_rate"] == 0.0
    no_score = dict(zip(FEATURE_NAMES, extract_features(s), strict=True))
    assert no_score["has_score"] == 0.0


def test_too_few_notes() -> None:
    one = NoteArray.from_arrays(np.zeros(1), np.ones(1), np.full(1, 60), np.full(1, 64))
    with pytest.raises(ValueError, match="at least two notes"):
        extract_features(one)


def test_real_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIANO_EVAL_CACHE", str(tmp_path))
    root = find_data_root(Path(__file__).parent)
    if root is None or not (root / "percepiano").is_dir():
        pytest.skip("PercePiano absent")
    midi = root / "percepiano" / "midi"
    perfs = [
        midi / "all_2rounds" / "Beethoven_WoO80_thema_8bars_11_1.mid",
        midi / "all_2rounds" / "Beethoven_WoO80_thema_8bars_Score_1.mid",
    ]
    x = features_for_files(perfs, [midi / "score_midi" / "Beethoven_WoO80_thema_8bars_Score_1.mid"] * 2)
    assert x.shape == (2, len(FEATURE_NAMES)) and np.isfinite(x).all()
    f = dict(zip(FEATURE_NAMES, x[1], strict=True))
    assert f["match_rate"] == pytest.approx(1.0)  # the deadpan rendition is the score
    assert f["onset_dev_abs_mean"] < 0.02 and f["vel_score_corr"] > 0.9
    performer = dict(zip(FEATURE_NAMES, x[0], strict=True))
    assert performer["match_rate"] > 0.8 and 0.0 < performer["onset_dev_abs_mean"] < 0.5
    assert list(tmp_path.rglob("*.npz"))  # alignments were cached
    np.testing.assert_array_equal(
        x, features_for_files(perfs, [perfs[1].parents[1] / "score_midi" / perfs[1].name] * 2)
    )
