"""How far is a run's same-passage pairwise accuracy from another's, or from a target, given the passages it saw?

Reads two ``results.json`` files of ``piano-eval run`` on the same split of PercePiano (same folds, same test
segments) and resamples the test passages with replacement inside each fold, the same draw for both runs. Each
resample's pairwise accuracy is computed as ``piano-eval`` computes it (per fold: per dimension over the
unambiguous same-passage pairs, mean over dimensions; then mean over folds), from each passage's counts of
right and unambiguous pairs (:func:`piano_eval.metrics.pairwise_accuracy_per_dim` on that passage alone), so
a passage drawn twice counts twice and no pair crosses two passages.

    uv run --locked python benchmarks/paired_bootstrap.py A/results.json B/results.json \
        --data-root ../shared/data [--resamples 2000] [--target 0.70] [--output out.json]

Prints each run's pairwise accuracy with its 95% interval over passages, the paired difference A - B with its
interval and the share of resamples in which A is ahead, and, with ``--target``, the share of resamples in which
each run reaches it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.samples import stack_labels
from piano_eval.datasets import load_labelled
from piano_eval.metrics import pairwise_accuracy_per_dim


def passage_counts(labels: np.ndarray, pred: np.ndarray, groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(right [passages, dims], valid [passages, dims])``: each passage's right and unambiguous pair counts,
    passages sorted by name (a passage of one performance has none)."""
    names = sorted(set(groups))
    right = np.zeros((len(names), labels.shape[1]))
    valid = np.zeros((len(names), labels.shape[1]))
    for i, name in enumerate(names):
        rows = [j for j, g in enumerate(groups) if g == name]
        if len(rows) < 2:
            continue
        acc, counts = pairwise_accuracy_per_dim(labels[rows], pred[rows], [name] * len(rows))
        valid[i] = counts
        right[i] = np.where(counts > 0, np.nan_to_num(acc) * counts, 0.0)
    return right, valid


def _fold_counts(record: dict[str, Any], by_key: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`passage_counts` of every fold of a results record."""
    out = []
    for fold in record["folds"]:
        segs = [by_key[k] for k in fold["keys"]]
        pred = np.asarray(fold["predictions"], dtype=np.float64)
        out.append(passage_counts(stack_labels(segs), pred, [s.group for s in segs]))
    return out


def accuracy(right: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean over dimensions of right / valid summed over the (resampled) passages; ``right`` ``[..., P, D]``."""
    r, v = right.sum(-2), valid.sum(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nanmean(np.where(v > 0, r / np.maximum(v, 1), np.nan), axis=-1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path, help="results.json of run A")
    ap.add_argument("b", type=Path, help="results.json of run B (same split and folds)")
    ap.add_argument("--data-root", type=Path, required=True, help="folder holding percepiano/")
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", type=float, default=None, help="report the share of resamples reaching it")
    ap.add_argument("--output", type=Path, default=None, help="write the summary as JSON")
    args = ap.parse_args(argv)

    records = []
    for path in (args.a, args.b):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            print(f"{path}: not a readable results file ({exc})", file=sys.stderr)
            return 2
    keys = [[tuple(f["keys"]) for f in r["folds"]] for r in records]
    if keys[0] != keys[1]:
        print(f"{args.b}: its folds do not test the same segments as {args.a}'s", file=sys.stderr)
        return 2
    corpus = load_labelled(args.data_root)
    by_key = {s.key: s for s in corpus.segments}
    counts = [_fold_counts(r, by_key) for r in records]

    rng = np.random.default_rng(args.seed)
    draws = np.zeros((2, args.resamples))
    for k, (right_a, valid_a) in enumerate(counts[0]):
        right_b, valid_b = counts[1][k]
        idx = rng.integers(0, len(right_a), size=(args.resamples, len(right_a)))
        draws[0] += accuracy(right_a[idx], valid_a[idx])
        draws[1] += accuracy(right_b[idx], valid_b[idx])
    n_folds = len(counts[0])
    draws /= n_folds
    point = [float(np.mean([accuracy(r, v) for r, v in c])) for c in counts]
    diff = draws[0] - draws[1]
    has_target = args.target is not None
    summary: dict[str, Any] = {
        "split": records[0]["split"],
        "resamples": args.resamples,
        "seed": args.seed,
        "runs": [
            {
                "results": str(path),
                "experiment": r["experiment"],
                "pairwise": point[i],
                "interval_95": np.percentile(draws[i], [2.5, 97.5]).tolist(),
                **({"share_reaching_target": float(np.mean(draws[i] >= args.target))} if has_target else {}),
            }
            for i, (path, r) in enumerate(zip((args.a, args.b), records, strict=True))
        ],
        "difference": point[0] - point[1],
        "difference_interval_95": np.percentile(diff, [2.5, 97.5]).tolist(),
        "share_a_ahead": float(np.mean(diff > 0)),
        "target": args.target,
    }
    for run in summary["runs"]:
        lo, hi = run["interval_95"]
        extra = f", reaches {args.target:g} in {run['share_reaching_target']:.1%}" if has_target else ""
        print(f"{run['experiment']:<20} pairwise {run['pairwise']:.4f}  95% [{lo:.4f}, {hi:.4f}]{extra}")
    lo, hi = summary["difference_interval_95"]
    print(f"A - B {summary['difference']:+.4f}  95% [{lo:+.4f}, {hi:+.4f}], A ahead in {summary['share_a_ahead']:.1%}")
    print(f"({args.resamples} resamples of the test passages inside each of {n_folds} folds, seed {args.seed})")
    if args.output is not None:
        tmp = args.output.with_suffix(args.output.suffix + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
        tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
