"""Fast counts of the T2-T4 sources and soundfonts for ``piano-eval data summary`` (no MIDI parsing)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from piano_data.errors import PianoDataError
from piano_data.soundfonts import available_soundfonts
from piano_data.tiers.asap import load_asap
from piano_data.tiers.atepp import load_atepp
from piano_data.tiers.giantmidi import load_giantmidi_eval
from piano_data.tiers.pieces import PieceIndex

__all__ = ["summarize_tiers"]


def _count(folder: Path, patterns: tuple[str, ...] = ("*.mid", "*.midi")) -> int:
    return sum(1 for pat in patterns for _ in folder.rglob(pat)) if folder.is_dir() else 0


def summarize_tiers(data_root: str | PathLike[str]) -> dict[str, object]:
    """Counts for ASAP (performances, pieces, same-piece pairs), the GiantMIDI and MAESTRO subsets (MIDI
    files), ATEPP metadata (performances, pieces, performers, pairs, MIDI present) and the installed
    soundfonts.

    A source that is absent under ``data_root`` is reported as ``{"present": False}``.
    """
    root = Path(data_root)
    out: dict[str, object] = {}
    asap = root / "asap"
    if (asap / "metadata.csv").is_file():
        idx = PieceIndex(load_asap(asap))
        s = idx.summary()
        out["asap"] = {
            "present": True,
            "performances": s["performances"],
            "pieces": s["pieces"],
            "pieces_with_pairs": s["pieces_with_pairs"],
            "same_piece_pairs": s["same_piece_pairs"],
        }
    else:
        out["asap"] = {"present": False}
    gm = root / "giantmidi_subset"
    if gm.is_dir():
        ev = gm / "midis_for_evaluation"
        gm_info: dict[str, object] = {
            "present": True,
            "midi_files": _count(gm),
            "giantmidi_transcriptions": _count(ev / "giantmidi-piano") + _count(gm / "midis_preview"),
            "maestro_performances": _count(ev / "maestro"),
            "score_midis": _count(ev / "ground_truth"),
        }
        try:
            idx = PieceIndex(load_giantmidi_eval(ev))
            gm_info.update({"eval_pieces": len(idx), "same_piece_pairs": idx.pair_count()})
        except PianoDataError:
            pass
        out["giantmidi_subset"] = gm_info
    else:
        out["giantmidi_subset"] = {"present": False}
    ms = root / "maestro_subset"
    out["maestro_subset"] = {"present": True, "midi_files": _count(ms)} if ms.is_dir() else {"present": False}
    at = root / "atepp_metadata"
    try:
        perfs = load_atepp(at, require_midi=False)
        idx = PieceIndex(perfs)
        out["atepp"] = {
            "present": True,
            "performances": len(perfs),
            "pieces": len(idx),
            "performers": len({p.performer for p in perfs}),
            "same_piece_pairs": idx.pair_count(),
            "midi_present": sum(p.midi_path is not None for p in perfs),
        }
    except PianoDataError:
        out["atepp"] = {"present": False}
    out["soundfonts"] = {name: str(path) for name, path in available_soundfonts().items()}
    return out
