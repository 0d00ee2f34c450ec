from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data.errors import PianoDataError
from piano_data.tiers import load_competition_manifest, ordinal_pairs, placement_rank

DATA = Path(__file__).parent / "data"


def _with_audio(tmp_path: Path, name: str = "competition_example.csv") -> Path:
    manifest = tmp_path / name
    shutil.copy(DATA / name, manifest)
    (tmp_path / "audio").mkdir(exist_ok=True)
    for i in range(1, 10):
        sf.write(tmp_path / "audio" / f"r{i:02d}.wav", np.zeros(2400, np.float32), 24000)
    return manifest


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("1", 1),
        ("1st", 1),
        ("2nd", 2),
        ("3rd Prize", 3),
        ("4th", 4),
        ("Finalist", 100),
        ("semifinal", 200),
        ("semifinalist", 200),
        ("quarterfinalist", 300),
        ("eliminated", 1000),
    ],
)
def test_placement_rank(text: str, rank: int) -> None:
    assert placement_rank(text) == rank


@pytest.mark.parametrize("text", ["gold", "0", "", "honourable mention"])
def test_unknown_placement(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown placement"):
        placement_rank(text)


def test_example_manifest_and_pairs(tmp_path: Path) -> None:
    recs = load_competition_manifest(_with_audio(tmp_path))
    assert len(recs) == 9 and recs[0].rank == 1 and recs[3].rank == 100 and recs[0].audio_path.is_file()
    every = ordinal_pairs(recs, same_piece="ignore")
    # 2024 final: 4 distinct ranks -> 6 pairs; semifinal: 1 semifinalist vs 2 eliminated -> 2 (the two
    # eliminated tie); 2023 final: 1 pair
    assert len(every) == 9
    assert all(p.better.rank < p.worse.rank for p in every)
    assert all(p.better.competition == p.worse.competition and p.better.round == p.worse.round for p in every)
    required = ordinal_pairs(recs, same_piece="require")
    assert all(p.same_piece for p in required) and len(required) == 5
    preferred = ordinal_pairs(recs, same_piece="prefer")
    # r03 (the only Sonata) has no same-piece partner: it keeps its cross-piece pairs; r07 likewise
    assert {(p.better.recording_id, p.worse.recording_id) for p in preferred if not p.same_piece} == {
        ("r01", "r03"),
        ("r02", "r03"),
        ("r03", "r04"),
        ("r05", "r07"),
    }
    assert len(preferred) == 9


def test_json_manifest(tmp_path: Path) -> None:
    recs = load_competition_manifest(_with_audio(tmp_path, "competition_example.json"))
    assert [r.rank for r in recs] == [1, 2, 1000]
    # r01 > r02 on one piece; r03 (another piece) has no same-piece partner: it keeps its cross-piece pairs
    assert len(ordinal_pairs(recs)) == 3 and len(ordinal_pairs(recs, same_piece="require")) == 1


def test_missing_audio_counted_skip_and_strict(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    manifest = tmp_path / "m.csv"
    shutil.copy(DATA / "competition_example.csv", manifest)
    assert load_competition_manifest(manifest) == []
    assert "skipped 9 row(s): audio file named in the manifest not found" in caplog.text
    with pytest.raises(PianoDataError, match=r"r01.wav: audio file named in the manifest not found"):
        load_competition_manifest(manifest, strict=True)
    assert len(load_competition_manifest(DATA / "competition_example.csv", require_audio=False)) == 9


def test_bad_manifests(tmp_path: Path) -> None:
    header = "recording_id,competition,round,placement,piece,performer,audio_path\n"
    (tmp_path / "cols.csv").write_text("recording_id,competition,placement\nr1,c,1\n")
    with pytest.raises(PianoDataError, match=r"missing column.*round, piece, performer, audio_path"):
        load_competition_manifest(tmp_path / "cols.csv")
    (tmp_path / "place.csv").write_text(header + "r1,c,final,gold,p,a,x.wav\n")
    with pytest.raises(PianoDataError, match=r"place.csv \(row 2\): unknown placement 'gold'"):
        load_competition_manifest(tmp_path / "place.csv", require_audio=False)
    (tmp_path / "dup.csv").write_text(header + "r1,c,final,1,p,a,x.wav\nr1,c,final,2,p,b,y.wav\n")
    with pytest.raises(PianoDataError, match=r"duplicate recording_id 'r1'"):
        load_competition_manifest(tmp_path / "dup.csv", require_audio=False)
    (tmp_path / "empty.csv").write_text(header + "r1,c,final,1,,a,x.wav\n")
    with pytest.raises(PianoDataError, match=r"empty field.*piece"):
        load_competition_manifest(tmp_path / "empty.csv", require_audio=False)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PianoDataError, match=r"not valid JSON"):
        load_competition_manifest(tmp_path / "bad.json")
    with pytest.raises(PianoDataError, match=r"manifest not found"):
        load_competition_manifest(tmp_path / "none.csv")
