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
# # 09 · Fusion: F1 cross-attention, F2 concatenation, F3 per-dimension gates
#
# A symbolic track (S1 REMI Transformer over the performance MIDI) and an audio track (MuQ over audio rendered
# from it), both extracted once, label-free, and cached (shared by the three experiments), fused by
# `piano_fusion`: F1 lets the sequences cross-attend, F2 concatenates the pooled embeddings, F3 mixes them
# with a sigmoid gate per dimension. The F3 gates say, per PercePiano dimension, how much the trained model
# leans on the audio track (1) or the symbolic track (0). Quick size: tiny S1 and a tiny random MuQ.

# %% tags=["parameters"]
import os

SIZE = os.environ.get("PIANO_NB_SIZE", "quick")  # quick: 2 CPU cores, minutes, tiny S1 + MuQ; full: GPU
DATA_ROOT = os.environ.get("PIANO_NB_DATA_ROOT", "auto")  # auto: find_data_root(); synthetic; or a folder
SPLIT = "piece4"
FOLDS = [0] if SIZE == "quick" else None  # None: every fold of the split
MUQ_WEIGHTS = os.environ.get("MUQ_WEIGHTS")  # full: a local folder holding real MuQ weights
OUT = os.environ.get("PIANO_NB_OUT", "../outputs/09_fusion_experiments")

# %%
from pathlib import Path

from IPython.display import Image, Markdown, display
from piano_eval import plots
from piano_eval.compare import comparison_table
from piano_eval.experiments.registry import build_experiment
from piano_eval.outputs import notebook_context, per_dimension_rows, plot_training_curves, write_csv, write_markdown
from piano_eval.runner import run_cv

out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
dataset, ctx = notebook_context(DATA_ROOT, SIZE, "fusion", MUQ_WEIGHTS)
workdir, data_root = ctx.workdir, ctx.data_root
print(dataset.description, "| size", SIZE, "| split", SPLIT, "| folds", FOLDS or "all")

# %%
import numpy as np
from piano_data.contracts import DIMENSIONS
from piano_eval.outputs import comparison_rows
from piano_eval.selection import group_tables, rows_from_results

docs = []
for experiment_id in ("f1", "f2", "f3"):
    experiment = build_experiment(experiment_id, {}, size=SIZE)
    print(experiment.description)
    docs.append(run_cv(experiment, dataset, SPLIT, ctx, folds=FOLDS, out_dir=out / experiment_id))
print("tracks:", docs[0].config.get("tracks"))
tables = group_tables(rows_from_results(docs))
display(Markdown(tables))
display(Markdown(comparison_table(docs)))

# %% [markdown]
# ## F3 gate weights per dimension (mean over the test segments of the folds run)

# %%
gates = docs[2].config["audio_gate_per_dimension"]
gate_rows = [{"dimension": d, "audio_gate": gates[d]} for d in DIMENSIONS]
write_csv(gate_rows, out / "f3_gates.csv")
gate_figure = plots.gate_weights(np.array([[gates[d] for d in DIMENSIONS]]), out / "f3_gate_weights.png")
display(Image(filename=str(gate_figure)))

# %%
write_markdown(tables + "\n\n" + comparison_table(docs), out / "comparison.md")
write_csv(comparison_rows(docs), out / "comparison.csv")
write_csv(per_dimension_rows(docs), out / "per_dimension.csv")
display(Image(filename=str(plots.per_dimension_r2(docs, out / "per_dimension_r2.png"))))
curves = plot_training_curves(workdir, out / "training_curves.png", "F1-F3: training curves")
if curves is not None:
    display(Image(filename=str(curves)))
