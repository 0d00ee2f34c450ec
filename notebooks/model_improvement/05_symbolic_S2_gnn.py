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
# # 05 · Symbolic S2: graph neural network over notes
#
# Notes as graph nodes (onset, during, follow and silence edges), pretrained with masked-node and link
# prediction plus the cross-performer contrastive term, then fine-tuned per fold with MSE + same-piece ranking
# (`piano_eval.experiments.symbolic.S2Experiment`, encoder in `piano_symbolic`).

# %% tags=["parameters"]
import os

SIZE = os.environ.get("PIANO_NB_SIZE", "quick")  # quick: 2 CPU cores, minutes; full: GPU
DATA_ROOT = os.environ.get("PIANO_NB_DATA_ROOT", "auto")  # auto: find_data_root(); synthetic; or a folder
SPLIT = "piece4"
FOLDS = [0] if SIZE == "quick" else None  # None: every fold of the split
OUT = os.environ.get("PIANO_NB_OUT", "../outputs/05_symbolic_S2_gnn")

# %%
from pathlib import Path

from IPython.display import Image, Markdown, display
from piano_eval.compare import comparison_table
from piano_eval.experiments.registry import build_experiment
from piano_eval.outputs import experiment_report, notebook_context
from piano_eval.runner import run_cv

out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
dataset, ctx = notebook_context(DATA_ROOT, SIZE, "s2")
workdir = ctx.workdir
print(dataset.description, "| size", SIZE, "| split", SPLIT, "| folds", FOLDS or "all")

# %% [markdown]
# ## Run: the same call as `piano-eval run s2 --split piece4 --size quick --folds 0`

# %%
experiment = build_experiment("s2", {}, size=SIZE)
print(experiment.description)
doc = run_cv(experiment, dataset, SPLIT, ctx, folds=FOLDS, out_dir=out / "s2")
display(Markdown(comparison_table([doc])))

# %% [markdown]
# ## Tables and figures
# `summary.md` (the comparison row), `per_dimension.csv`, and the figures: per-dimension R^2, out-of-fold
# predictions against the ratings, and the training curves of every fold
# (`s2-pretrain` is the self-supervised stage, absent when its checkpoint is cached).

# %%
figures = experiment_report(doc, dataset, workdir, out, "S2 GNN")
for figure in figures:
    display(Image(filename=str(figure)))
