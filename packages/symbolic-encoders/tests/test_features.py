from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from piano_data.midi import NoteArray
from piano_data.paths import find_data_root
from piano_symbolic.features import FEATURE_NAMES, extract_features, features_for_files, match_to_score


def _score() -> NoteArray:
    on = np.arange(16) * 0.5
    return NoteArray.from_arrays(on, on + 0.45, 60 + (np.arange(16) % 8), np.full(16, 64))


def test_identity_performance_has_no_deviation() -> None:
    s = _score()
    f = dict(zip(FEATURE_NAMES, extract_features(s, s), strict=True))
    assert len(FEATURE_NAMES) == len(extract_features(s, s))
    assert f["has_score"] == 1.0 and f["match_rate"] == 1.0
    assert f["tempo_ratio"] == pytest.approx(1.0)
    assert f["onset_dev_std"] == pytest.approx(0.0, abs=1e-9)
    assert f["missed_rate"] == 0.0 and f["extra_rate"] == 0.0
    assert f["ioi_mean"] == pytest.approx(0.5)
    assert f["legato_ratio_mean"] == pytest.approx(0.9)


def test_known_deviations() -> None:
    s = _score()
    slow = NoteArray.from_arrays(s.onset * 1.25, s.offset * 1.25, s.pitch, s.velocity + 20)
    f = dict(zip(FEATURE_NAMES, extract_features(slow, s), strict=True))
    assert f["tempo_ratio"] == pytest.approx(1.25)
    assert f["vel_mean"] == pytest.approx(84.0)
    keep = np.arange(16) != 3  # one missed note
    missed = NoteArray.from_arrays(s.onset[keep], s.offset[keep], s.pitch[keep], s.velocity[keep])
    g = dict(zip(FEATURE_NAMES, extract_features(missed, s), strict=True))
    assert g["missed_rate"] == pytest.approx(1 / 16)
    assert len(match_to_score(missed, s)) == 15
    no_score = dict(zip(FEATURE_NAMES, extract_features(s), strict=True))
    assert no_score["has_score"] == 0.0


def test_too_few_notes() -> None:
    one = NoteArray.from_arrays(np.zeros(1), np.ones(1), np.full(1, 60), np.full(1, 64))
    with pytest.raises(ValueError, match="at least two notes"):
        extract_features(one)


def test_real_files() -> None:
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
