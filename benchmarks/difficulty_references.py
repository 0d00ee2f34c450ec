"""Reference rows for benchmarks/difficulty.md: how far note count alone, and the hand-crafted features
without the piece's duration, get on the Mikrokosmos-difficulty 50 splits (ridge, both targets).

    python benchmarks/difficulty_references.py ../shared/data/mikrokosmos_difficulty [OUT.json]
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from piano_data.difficulty import load_mikrokosmos, mikrokosmos_splits
from piano_eval.difficulty import evaluate_embeddings, feature_embed, load_notes
from piano_symbolic.features import FEATURE_NAMES

KEYS = (
    "spearman",
    "spearman_std",
    "kendall",
    "kendall_std",
    "accuracy",
    "accuracy_std",
    "n_splits",
    "n_items",
    "n_features",
)


def main(root: str, out: str | None = None) -> None:
    items, splits = load_mikrokosmos(root), mikrokosmos_splits(root)
    start = time.perf_counter()
    notes = load_notes(items)
    feats = feature_embed(notes)
    variants = {
        "n_notes": np.array([[len(n)] for n in notes], dtype=np.float64),
        "features_without_duration": np.delete(feats, [FEATURE_NAMES.index("duration_s")], axis=1),
        "features": feats,
    }
    result = {}
    for name, x in variants.items():
        for target in ("henle", "3class"):
            r = evaluate_embeddings(x, items, splits, target, "ridge")
            result[f"{name}/{target}"] = {k: r[k] for k in KEYS}
            print(name, target, json.dumps(result[f"{name}/{target}"]), flush=True)
    print(f"wall {time.perf_counter() - start:.1f} s")
    if out:
        with open(out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
