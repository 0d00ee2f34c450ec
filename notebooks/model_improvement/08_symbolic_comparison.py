# ruff: noqa: E402
# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Symbolic comparison: S1, S2, S3, S4 and the hand-crafted feature baseline
#
# The three symbolic encoders (notebooks 04-06, whose results files are reused when they ran with the same
# dataset, size, split and folds) and S4, the aligned-note encoder that reads the performance against its score
# (`piano_symbolic.s4`, run here), against `baseline-features` (38 hand-crafted MIDI features with a small MLP
# ensemble), in the design's comparison table with the winner selection of `piano_eval.selection`. Symbolic
# experiments take no audio, so the robustness veto does not apply to them.

# %% tags=["parameters"]
import os

SIZE = os.environ.get("PIANO_NB_SIZE", "quick")  # quick: 2 CPU cores, minutes; full: GPU
DATA_ROOT = os.environ.get("PIANO_NB_DATA_ROOT", "auto")  # auto: find_data_root(); synthetic; or a folder
SPLIT = "piece4"
FOLDS = [0] if SIZE == "quick" else None  # None: every fold of the split
OUT = os.environ.get("PIANO_NB_OUT", "../outputs/08_symbolic_comparison")

# %%
from pathlib import Path

from IPython.display import Image, Markdown, display
from piano_eval import plots
from piano_eval.compare import comparison_table
from piano_eval.outputs import notebook_context, per_dimension_rows, reuse_or_run, write_csv, write_markdown

out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
dataset, ctx = notebook_context(DATA_ROOT, SIZE, "symbolic")
workdir, data_root = ctx.workdir, ctx.data_root
print(dataset.description, "| size", SIZE, "| split", SPLIT, "| folds", FOLDS or "all")

# %%
from piano_eval.outputs import comparison_rows
from piano_eval.selection import group_tables, rows_from_results

REUSE = True  # take an earlier notebook's results when it ran the same dataset, size, split and folds


# %%
runs = [
    ("s1", "04_symbolic_S1_transformer"),
    ("s2", "05_symbolic_S2_gnn"),
    ("s3", "06_symbolic_S3_continuous"),
    ("s4", None),
    ("baseline-features", None),
]
docs = [
    reuse_or_run(eid, out.parent / nb if REUSE and nb else None, dataset, ctx, SPLIT, FOLDS, out) for eid, nb in runs
]
tables = group_tables(rows_from_results(docs))
display(Markdown(tables))
display(Markdown(comparison_table(docs)))

# %%
write_markdown(tables + "\n\n" + comparison_table(docs), out / "comparison.md")
write_csv(comparison_rows(docs), out / "comparison.csv")
write_csv(per_dimension_rows(docs), out / "per_dimension.csv")
display(Image(filename=str(plots.per_dimension_r2(docs, out / "per_dimension_r2.png"))))
