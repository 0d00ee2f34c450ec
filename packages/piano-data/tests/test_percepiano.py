from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from piano_data.contracts import DIMENSIONS, N_DIMS
from piano_data.errors import PianoDataError
from piano_data.percepiano import LABEL_FILE, load_percepiano, parse_key, work_of


def test_parse_key_player_is_second_to_last() -> None:
    f = parse_key("Schubert_D960_mv3_8bars_12_4")
    assert f == {"piece": "Schubert_D960_mv3_8bars", "bars": "8", "player": "12", "segment": "4"}
    assert parse_key(" Schubert_D935_no.3_4bars_2_1")["player"] == "2"
    assert parse_key("Beethoven_WoO80_var27_8bars_Score2_15")["player"] == "Score2"
    with pytest.raises(ValueError, match="not a PercePiano segment name"):
        parse_key("nonsense")


@pytest.mark.parametrize(
    ("piece", "work"),
    [
        ("Beethoven_WoO80_var27_8bars", "Beethoven_WoO80"),
        ("Beethoven_WoO80_thema_8bars", "Beethoven_WoO80"),
        ("Schubert_D960_mv3_16bars", "Schubert_D960_mv3"),
        ("Schubert_D935_no.3_4bars", "Schubert_D935_no.3"),
    ],
)
def test_work_of(piece: str, work: str) -> None:
    assert work_of(piece) == work


def test_dimensions() -> None:
    assert N_DIMS == 19
    assert DIMENSIONS[0] == "Timing_Stable_Unstable"
    assert DIMENSIONS[-1] == "Interpretation_Unsatisfactory/doubtful_Convincing"


def test_real_percepiano_counts(percepiano_root: Path) -> None:
    segments = load_percepiano(percepiano_root)
    assert len(segments) == 1202
    assert len({s.piece for s in segments}) == 22
    assert len({s.group for s in segments}) == 99
    assert set(Counter(s.work for s in segments)) == {
        "Beethoven_WoO80", "Schubert_D935_no.3", "Schubert_D960_mv2", "Schubert_D960_mv3"
    }  # fmt: skip
    assert sum(s.player in ("Score", "Score2") for s in segments) == 129
    assert all(s.score_midi_path is not None and s.score_midi_path.is_file() for s in segments)
    assert all(s.labels is not None and s.labels.shape == (19,) for s in segments)
    assert all(s.label_std is not None for s in segments)
    # the file whose name starts with a space is matched to its stripped key
    spaced = next(s for s in segments if s.key == "Schubert_D935_no.3_4bars_2_1")
    assert spaced.midi_path.name.startswith(" ")


def test_labels_match_raw_json(percepiano_root: Path) -> None:
    raw = json.loads((percepiano_root / LABEL_FILE).read_text())
    seg = {s.key: s for s in load_percepiano(percepiano_root)}
    key = "Beethoven_WoO80_var27_8bars_1_15"
    np.testing.assert_allclose(seg[key].labels, raw[key][:19])
    labels = np.stack([s.labels for s in seg.values()])
    assert labels.min() >= 0.0 and labels.max() <= 1.0


def _mini_copy(src: Path, dst: Path, n: int = 4) -> list[str]:
    keys = sorted(json.loads((src / LABEL_FILE).read_text()))[:n]
    (dst / "midi" / "all_2rounds").mkdir(parents=True)
    (dst / "midi" / "score_midi").mkdir(parents=True)
    (dst / "labels_root").mkdir()
    raw = json.loads((src / LABEL_FILE).read_text())
    (dst / LABEL_FILE).write_text(json.dumps({k: raw[k] for k in keys}))
    for k in keys:
        shutil.copy(src / "midi" / "all_2rounds" / f"{k}.mid", dst / "midi" / "all_2rounds" / f"{k}.mid")
        f = parse_key(k)
        name = f"{f['piece']}_Score_{f['segment']}.mid"
        shutil.copy(src / "midi" / "score_midi" / name, dst / "midi" / "score_midi" / name)
    return keys


def test_mismatched_labels_error(percepiano_root: Path, tmp_path: Path) -> None:
    keys = _mini_copy(percepiano_root, tmp_path)
    assert len(load_percepiano(tmp_path)) == len(keys)
    (tmp_path / "midi" / "all_2rounds" / f"{keys[0]}.mid").unlink()
    with pytest.raises(PianoDataError, match="label keys have no MIDI file"):
        load_percepiano(tmp_path)


def test_missing_folder_and_labels(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match="not a PercePiano folder"):
        load_percepiano(tmp_path)
    (tmp_path / "midi" / "all_2rounds").mkdir(parents=True)
    with pytest.raises(PianoDataError, match="label file not found"):
        load_percepiano(tmp_path)
    (tmp_path / "labels_root").mkdir()
    (tmp_path / LABEL_FILE).write_text("{not json")
    with pytest.raises(PianoDataError, match="not valid JSON"):
        load_percepiano(tmp_path)
