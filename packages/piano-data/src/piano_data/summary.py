"""``summarize(data_root)``: what a data root holds, as a JSON-ready dict (fast: no audio is read)."""

from __future__ import annotations

from collections import Counter
from os import PathLike
from pathlib import Path
from typing import Any

from piano_data.contracts import N_DIMS
from piano_data.errors import PianoDataError
from piano_data.percepiano import load_percepiano
from piano_data.splits import same_group_pairs
from piano_data.tiers.summary import summarize_tiers

__all__ = ["summarize", "summarize_percepiano"]


def summarize_percepiano(root: Path) -> dict[str, Any]:
    segments = load_percepiano(root)
    players = Counter(s.player for s in segments)
    return {
        "root": str(root),
        "segments": len(segments),
        "dimensions": N_DIMS,
        "piece_groups": len({s.piece for s in segments}),
        "passage_groups": len({s.group for s in segments}),
        "works": dict(sorted(Counter(s.work for s in segments).items())),
        "n_works": len({s.work for s in segments}),
        "performers": len(players),
        "deadpan_segments": sum(players[p] for p in ("Score", "Score2")),
        "same_passage_pairs": len(same_group_pairs([s.group for s in segments])),
        "with_score_midi": sum(s.score_midi_path is not None for s in segments),
    }


def summarize(data_root: str | PathLike[str]) -> dict[str, Any]:
    """Summaries of every dataset folder found under ``data_root`` (``percepiano/``, ``asap/``, ...)."""
    root = Path(data_root)
    if not root.is_dir():
        raise PianoDataError(root, "data root is not a folder")
    out: dict[str, Any] = {"data_root": str(root)}
    if (root / "percepiano").is_dir():
        out["percepiano"] = summarize_percepiano(root / "percepiano")
    tiers = summarize_tiers(root)  # T2-T4 sources (absent ones omitted) and the installed soundfonts
    out.update({k: v for k, v in tiers.items() if k != "soundfonts" and isinstance(v, dict) and v.get("present")})
    if len(out) == 1:
        raise PianoDataError(root, "no known dataset folder here (expected percepiano/, asap/, ...)")
    out["soundfonts"] = tiers["soundfonts"]
    return out
