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
# # 03 · Audio A3: gradual unfreezing
#
# The head trains alone first, then MuQ layers 12 -> 11 -> 10 -> 9 are unfrozen one per `unfreeze_every`
# epochs with discriminative learning rates (`top_lr`, decayed by `lr_decay` per layer further down)
# (`piano_eval.experiments.audio.A3GradualUnfreeze`, `piano_audio.unfreeze`). Quick size: tiny random MuQ on
# 2 CPU cores (pipeline check only); full size: GPU and `MUQ_WEIGHTS`.

# %% tags=["parameters"]
import os

SIZE = os.environ.get("PIANO_NB_SIZE", "quick")  # quick: 2 CPU cores, minutes, tiny random MuQ; full: GPU
DATA_ROOT = os.environ.get("PIANO_NB_DATA_ROOT", "auto")  # auto: find_data_root(); synthetic; or a folder
SPLIT = "piece4"
FOLDS = [0] if SIZE == "quick" else None  # None: every fold of the split
MUQ_WEIGHTS = os.environ.get("MUQ_WEIGHTS")  # full: a local folder holding real MuQ weights
OUT = os.environ.get("PIANO_NB_OUT", "../outputs/03_audio_A3_full_unfreeze")

# %%
from pathlib import Path

from IPython.display import Image, Markdown, display
from piano_eval.compare import comparison_table
from piano_eval.experiments.registry import build_experiment
from piano_eval.outputs import experiment_report, notebook_context
from piano_eval.runner import run_cv

out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
dataset, ctx = notebook_context(DATA_ROOT, SIZE, "a3", MUQ_WEIGHTS)
workdir = ctx.workdir
print(dataset.description, "| size", SIZE, "| split", SPLIT, "| folds", FOLDS or "all")

# %% [markdown]
# ## Run: the same call as `piano-eval run a3 --split piece4 --size quick --folds 0`

# %%
experiment = build_experiment("a3", {} if MUQ_WEIGHTS else {"muq": "tiny"}, size=SIZE)
print(experiment.description)
doc = run_cv(experiment, dataset, SPLIT, ctx, folds=FOLDS, out_dir=out / "a3")
display(Markdown(comparison_table([doc])))
print("MuQ:", "weights " + MUQ_WEIGHTS if MUQ_WEIGHTS else "random (tiny in quick size)")

# %% [markdown]
# ## Tables and figures
# `summary.md` (the comparison row), `per_dimension.csv`, and the figures: per-dimension R^2, out-of-fold
# predictions against the ratings, and the training curves of every fold.

# %%
figures = experiment_report(doc, dataset, workdir, out, "A3 gradual unfreeze")
for figure in figures:
    display(Image(filename=str(figure)))
