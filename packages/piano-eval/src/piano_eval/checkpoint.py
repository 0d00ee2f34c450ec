"""Trained-experiment checkpoints: a folder with ``checkpoint.json`` plus whatever the experiment saves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piano_data.atomic import atomic_dir, replaced_dirs
from piano_data.contracts import DIMENSIONS
from piano_data.errors import PianoDataError, read_json
from piano_data.samples import Segment

from piano_eval.datasets import LabelledCorpus
from piano_eval.experiments.base import Experiment, RunContext
from piano_eval.experiments.registry import EXPERIMENTS, experiment_class
from piano_eval.provenance import git_commit, machine, write_json_atomic

MANIFEST = "checkpoint.json"
CHECKPOINT_FORMAT = 1


def train_checkpoint(experiment: Experiment, dataset: LabelledCorpus, ctx: RunContext, out_dir: Path) -> Path:
    """Fit ``experiment`` on every segment of ``dataset`` and write the checkpoint folder atomically."""
    segments: Sequence[Segment] = dataset.segments
    experiment.prepare(segments, ctx)
    experiment.fit(segments, ctx)
    out_dir = Path(out_dir)
    # a kill at any point leaves the new checkpoint or the old one, at its name or aside (load_checkpoint says where)
    with atomic_dir(out_dir) as tmp:
        experiment.save(tmp)
        write_json_atomic(
            tmp / MANIFEST,
            {
                "format": CHECKPOINT_FORMAT,
                "experiment": experiment.id,
                "config": experiment.config,
                "dimensions": list(DIMENSIONS),
                "dataset": {"name": dataset.name, "version": dataset.version, "n_segments": len(segments)},
                "provenance": {
                    "git_commit": git_commit(),
                    "machine": machine(),
                    "trained": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            },
        )
    return out_dir


def load_checkpoint(directory: Path, expected_experiment: str | None = None) -> tuple[Experiment, dict[str, Any]]:
    """Rebuild the experiment saved in ``directory``; errors name the folder and the problem."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        aside = [d for d in replaced_dirs(directory) if (d / MANIFEST).is_file()]
        hint = f"; the previous checkpoint is at {aside[0]} (a replacement was interrupted)" if aside else ""
        raise PianoDataError(directory, f"not a piano-eval checkpoint (no {MANIFEST}){hint}")
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict):
        raise PianoDataError(manifest_path, "not a checkpoint manifest (expected a JSON object)")
    if not isinstance(manifest.get("config"), dict | None):
        raise PianoDataError(manifest_path, "checkpoint config must be a JSON object")
    name = manifest.get("experiment")
    if manifest.get("format") != CHECKPOINT_FORMAT or name not in EXPERIMENTS:
        raise PianoDataError(
            manifest_path, f"unsupported checkpoint (format {manifest.get('format')}, experiment {name!r})"
        )
    if expected_experiment is not None and name != expected_experiment:
        raise PianoDataError(directory, f"checkpoint is from experiment {name!r}, not {expected_experiment!r}")
    if manifest.get("dimensions") != list(DIMENSIONS):
        raise PianoDataError(manifest_path, "checkpoint was trained on other quality dimensions")
    try:
        experiment = experiment_class(name)(manifest.get("config"))
    except (ValueError, TypeError, KeyError) as exc:
        raise PianoDataError(manifest_path, f"checkpoint config is not valid for {name} ({exc})") from None
    try:
        experiment.load(directory)
    except FileNotFoundError as exc:
        raise PianoDataError(directory, f"checkpoint is incomplete ({exc.filename} missing)") from None
    return experiment, manifest
