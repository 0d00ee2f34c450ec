"""MAESTRO, ATEPP and plain-folder loaders, and the piece index / pair sampler across them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, write_notes
from piano_data.tiers import (
    Performance,
    PieceIndex,
    SamePiecePairSampler,
    load_atepp,
    load_folder,
    load_giantmidi_eval,
    load_maestro,
    piece_key,
    same_piece_pairs,
)

MAESTRO_ROWS = [
    (
        "Frédéric Chopin",
        "Ballade No. 1 in G Minor, Op. 23",
        "train",
        "2004",
        "2004/a.midi",
        "2004/a.wav",
        "10.5",
    ),
    (
        "Frédéric Chopin",
        "Ballade No. 1 in G Minor, Op. 23",
        "test",
        "2006",
        "2006/b.midi",
        "2006/b.wav",
        "11.0",
    ),
    ("Franz Liszt", "Sonata in B Minor", "train", "2008", "2008/c.midi", "2008/c.wav", "30.0"),
]
COLUMNS = [
    "canonical_composer",
    "canonical_title",
    "split",
    "year",
    "midi_filename",
    "audio_filename",
    "duration",
]


def _midi(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_notes(NoteArray.from_arrays(np.array([0.0]), np.array([0.5]), np.array([60]), np.array([70])), path)


@pytest.fixture
def maestro_root(tmp_path: Path) -> Path:
    for row in MAESTRO_ROWS[:2]:
        _midi(tmp_path / row[4])
    with (tmp_path / "maestro-v3.0.0.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(MAESTRO_ROWS)
    return tmp_path


def test_maestro_csv(maestro_root: Path, caplog: pytest.LogCaptureFixture) -> None:
    perfs = load_maestro(maestro_root)
    assert [p.split for p in perfs] == ["train", "test"] and perfs[0].duration_s == 10.5
    assert perfs[0].piece == perfs[1].piece == piece_key("Frederic Chopin", "Ballade No. 1 in G Minor, Op. 23")
    assert perfs[0].performer != perfs[1].performer and perfs[0].audio_path is None
    assert "skipped 1 row(s)" in caplog.text
    assert PieceIndex(perfs).pair_count() == 1
    with pytest.raises(PianoDataError, match=r"c.midi"):
        load_maestro(maestro_root, strict=True)


def test_maestro_json_column_oriented_and_audio_need(maestro_root: Path) -> None:
    cols = {c: {str(i): row[j] for i, row in enumerate(MAESTRO_ROWS)} for j, c in enumerate(COLUMNS)}
    (maestro_root / "maestro-v3.0.0.csv").unlink()
    (maestro_root / "maestro-v3.0.0.json").write_text(json.dumps(cols))
    assert len(load_maestro(maestro_root)) == 2
    (maestro_root / "2008").mkdir()
    sf.write(maestro_root / "2008" / "c.wav", np.zeros(2400, np.float32), 24000)
    audio_only = load_maestro(maestro_root, need="audio")
    assert [p.key for p in audio_only] == ["maestro:2008/c"] and audio_only[0].midi_path is None
    assert len(load_maestro(maestro_root, need="any")) == 3


def test_maestro_without_metadata_is_clear(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match=r"no MAESTRO metadata"):
        load_maestro(tmp_path)


def test_real_atepp_metadata(data_root: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = data_root / "atepp_metadata"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    meta_only = load_atepp(root, require_midi=False)
    assert len(meta_only) == 11677 and all(p.midi_path is None for p in meta_only)
    assert len({p.performer for p in meta_only}) == 49
    assert load_atepp(root) == [] and "skipped 11677 row(s)" in caplog.text


def test_atepp_with_midi(tmp_path: Path) -> None:
    _midi(tmp_path / "Chopin" / "op23" / "00001.mid")
    _midi(tmp_path / "Chopin" / "op23" / "00002.mid")
    (tmp_path / "ATEPP-metadata-1.1.csv").write_text(
        "artist,artist_id,track,track_duration,composer,composition_id,score_path,midi_path\n"
        "A,1.0,Ballade 1,500.0,Chopin,7.0,,Chopin/op23/00001.mid\n"
        "B,2.0,Ballade No. 1,510.0,Chopin,7.0,,Chopin/op23/00002.mid\n"
    )
    perfs = load_atepp(tmp_path)
    assert [p.piece for p in perfs] == ["atepp:7", "atepp:7"] and PieceIndex(perfs).pair_count() == 1
    (tmp_path / "bad.csv").write_text("artist,composer\nA,B\n")
    with pytest.raises(PianoDataError, match=r"missing column.*composition_id, midi_path"):
        load_atepp(tmp_path, tmp_path / "bad.csv")


def test_folder_pairs_midi_and_audio_by_stem(tmp_path: Path) -> None:
    _midi(tmp_path / "chopin_op23" / "alice.mid")
    sf.write(tmp_path / "chopin_op23" / "alice.wav", np.zeros(240, np.float32), 24000)
    _midi(tmp_path / "chopin_op23" / "bob.mid")
    _midi(tmp_path / "liszt" / "carol.midi")
    perfs = load_folder(tmp_path)
    assert [p.performer for p in perfs] == ["alice", "bob", "carol"]
    assert perfs[0].audio_path is not None and perfs[1].audio_path is None
    assert PieceIndex(perfs).pair_count() == 1
    assert len(PieceIndex(load_folder(tmp_path, piece_from="stem"))) == 3
    with pytest.raises(PianoDataError, match=r"folder not found"):
        load_folder(tmp_path / "nope")


def _perf(key: str, piece: str, performer: str) -> Performance:
    return Performance(key=key, source="t", piece=piece, composer="", title=piece, performer=performer)


def test_piece_index_pair_count_known_answer() -> None:
    perfs = [
        _perf("1", "p", "a"),
        _perf("2", "p", "a"),
        _perf("3", "p", "b"),
        _perf("4", "p", "c"),
        _perf("5", "q", "a"),
    ]
    index = PieceIndex(perfs)
    assert index.pair_count("p") == 5 and index.pair_count("q") == 0 and index.pair_count() == 5
    assert len(same_piece_pairs(index)) == 5 and index.paired_pieces() == ["p"]
    assert index.summary()["performances"] == 5


def test_pair_sampler_reproducible_and_valid() -> None:
    perfs = [_perf(f"{p}{i}", p, f"x{i % 3}") for p in "pqr" for i in range(5)] + [_perf("s0", "s", "solo")]
    sampler = SamePiecePairSampler(PieceIndex(perfs), seed=3)
    pairs = sampler.sample(300)
    assert all(a.piece == b.piece and a.performer != b.performer for a, b in pairs)
    assert {a.piece for a, _ in pairs} == {"p", "q", "r"}  # "s" has one performer: never drawn
    assert [(a.key, b.key) for a, b in sampler.sample(20, epoch=1)] == [
        (a.key, b.key) for a, b in SamePiecePairSampler(PieceIndex(perfs), seed=3).sample(20, epoch=1)
    ]
    assert sampler.sample(20, epoch=1) != sampler.sample(20, epoch=2)
    first = next(iter(SamePiecePairSampler(PieceIndex(perfs), seed=3, balance="pair")))
    assert first[0].piece == first[1].piece
    with pytest.raises(ValueError, match=r"nothing to pair"):
        SamePiecePairSampler(PieceIndex([_perf("s0", "s", "solo")]))


def test_performance_to_segment() -> None:
    p = Performance(
        key="k",
        source="asap",
        piece="bach|fugue",
        composer="Bach",
        title="Fugue",
        performer="a",
        midi_path=Path("a.mid"),
    )
    seg = p.to_segment()
    assert seg.labels is None and seg.piece == "bach|fugue" and seg.player == "a" and seg.source == "asap"
    with pytest.raises(PianoDataError, match=r"no MIDI"):
        _perf("x", "p", "a").to_segment()


def test_real_giantmidi_eval_triplets(data_root: Path) -> None:
    root = data_root / "giantmidi_subset" / "midis_for_evaluation"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    perfs = load_giantmidi_eval(root)
    index = PieceIndex(perfs)
    assert len(perfs) == 104 and len(index) == 52 and index.pair_count() == 52
    assert all(p.score_midi_path is not None for p in perfs)
    assert {p.source for p in perfs} == {"maestro", "giantmidi"}


def test_giantmidi_eval_missing_table(tmp_path: Path) -> None:
    with pytest.raises(PianoDataError, match=r"evaluation table not found"):
        load_giantmidi_eval(tmp_path)
