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
# # 07 · Audio comparison: A1, A2, A3 and the two audio baselines
#
# The three audio adaptations (notebooks 01-03, whose results files are reused when they ran with the same
# dataset, size, split and folds) against `baseline-paper` (frozen MuQ layers 9-12, mean pooled, a 2-layer
# MLP) and `baseline-ranker` (a contrastive ranker on the MuQ audio track), in the design's comparison table
# with the winner-selection rule of `piano_eval.selection` (highest same-passage pairwise accuracy, R^2
# breaks ties, robustness veto when a robustness measurement exists:
# notebook 10). Quick size: tiny random MuQ on 2 CPU cores, so the numbers say nothing about MuQ itself.

# %% tags=["parameters"]
import os

SIZE = os.environ.get("PIANO_NB_SIZE", "quick")  # quick: 2 CPU cores, minutes, tiny random MuQ; full: GPU
DATA_ROOT = os.environ.get("PIANO_NB_DATA_ROOT", "auto")  # auto: find_data_root(); synthetic; or a folder
SPLIT = "piece4"
FOLDS = [0] if SIZE == "quick" else None  # None: every fold of the split
MUQ_WEIGHTS = os.environ.get("MUQ_WEIGHTS")  # full: a local folder holding real MuQ weights
OUT = os.environ.get("PIANO_NB_OUT", "../outputs/07_audio_comparison")

# %%
from pathlib import Path

from IPython.display import Image, Markdown, display
from piano_eval import plots
from piano_eval.compare import comparison_table
from piano_eval.outputs import notebook_context, per_dimension_rows, reuse_or_run, write_csv, write_markdown

out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
dataset, ctx = notebook_context(DATA_ROOT, SIZE, "audio", MUQ_WEIGHTS)
workdir, data_root = ctx.workdir, ctx.data_root
print(dataset.description, "| size", SIZE, "| split", SPLIT, "| folds", FOLDS or "all")

# %%
from piano_eval.outputs import comparison_rows
from piano_eval.selection import group_tables, rows_from_results

MUQ = {} if MUQ_WEIGHTS else {"muq": "tiny"}  # the tables then say 'tiny MuQ'
REUSE = True  # take an earlier notebook's results when it ran the same dataset, size, split and folds


# %%
runs = [
    ("a1", "01_audio_A1_lora_finetune", MUQ),
    ("a2", "02_audio_A2_staged_adaptation", MUQ),
    ("a3", "03_audio_A3_full_unfreeze", MUQ),
    ("baseline-paper", None, MUQ),
    ("baseline-ranker", None, {}),  # contrastive ranker on the MuQ audio track (same MuQ as above)
]
docs = [
    reuse_or_run(eid, out.parent / nb if REUSE and nb else None, dataset, ctx, SPLIT, FOLDS, out, overrides)
    for eid, nb, overrides in runs
]
tables = group_tables(rows_from_results(docs))
display(Markdown(tables))
display(Markdown(comparison_table(docs)))

# %%
write_markdown(tables + "\n\n" + comparison_table(docs), out / "comparison.md")
write_csv(comparison_rows(docs), out / "comparison.csv")
write_csv(per_dimension_rows(docs), out / "per_dimension.csv")
display(Image(filename=str(plots.per_dimension_r2(docs, out / "per_dimension_r2.png"))))
