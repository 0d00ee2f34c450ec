from __future__ import annotations

import time
from pathlib import Path

from piano_data.tiers import summarize_tiers


def test_summary_of_real_data(data_root: Path) -> None:
    start = time.perf_counter()
    s = summarize_tiers(data_root)
    assert time.perf_counter() - start < 10
    if s["asap"]["present"]:  # type: ignore[index]
        assert s["asap"] == {
            "present": True,
            "performances": 902,
            "pieces": 193,
            "pieces_with_pairs": 145,
            "same_piece_pairs": 3801,
        }
    if s["giantmidi_subset"]["present"]:  # type: ignore[index]
        assert s["giantmidi_subset"]["midi_files"] == 160  # type: ignore[index]
        assert s["giantmidi_subset"]["same_piece_pairs"] == 52  # type: ignore[index]
    if s["maestro_subset"]["present"]:  # type: ignore[index]
        assert s["maestro_subset"]["midi_files"] == 10  # type: ignore[index]
    assert isinstance(s["soundfonts"], dict)


def test_summary_of_empty_root(tmp_path: Path) -> None:
    s = summarize_tiers(tmp_path)
    assert s["asap"] == {"present": False} and s["atepp"] == {"present": False}


def test_data_summary_includes_tiers(data_root: Path) -> None:
    from piano_data.summary import summarize

    s = summarize(data_root)
    assert "soundfonts" in s
    if (data_root / "asap" / "metadata.csv").is_file():
        assert (s["asap"]["performances"], s["asap"]["pieces"]) == (902, 193)
