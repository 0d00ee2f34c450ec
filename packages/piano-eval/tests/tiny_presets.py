"""Tiny preset overrides of every experiment, shared by the experiment and checkpoint tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SYMBOLIC: dict[str, Any] = {
    "preset": "tiny",
    "corpus_sources": ["percepiano"],
    "pretrain_epochs": 1,
    "finetune_epochs": 1,
    "batch_size": 8,
}

S4: dict[str, Any] = {
    "preset": "tiny",
    "corpus_sources": ["percepiano"],
    "pretrain_steps": 4,
    "pretrain_batch_size": 8,
    "finetune_epochs": 2,
    "batch_size": 8,
    "learned": True,  # the quick preset ships learned: false; the tests exercise the pretrained encoder too
    "note_conv": 0,  # the quick preset's convolution over the note frames; tests that want it set it
    "ensemble": 1,
}

AUDIO: dict[str, Any] = {
    "muq": "tiny",
    "max_train": 8,
    "epochs": 1,
    "patience": 1,
    "pretrain_epochs": 1,
    "max_pretrain": 8,
    "crop_seconds": 2.0,
    "eval_seconds": 2.0,
    "batch_size": 4,
}

FUSION: dict[str, Any] = {
    "s1": {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32, "max_len": 64, "max_tokens": 128},
    "s1_pretrain_epochs": 1,
    "z_dim": 16,
    "hidden": 16,
    "d_model": 16,
    "n_heads": 2,
    "max_epochs": 2,
    "patience": 2,
    "batch_size": 4,
}

FEATURES: dict[str, Any] = {"ensemble": 2, "max_iter": 60, "passage_relative": True}


def tiny_config(exp_id: str, cache_dir: Path) -> dict[str, Any]:
    """The tiny overrides of ``exp_id`` with its caches under ``cache_dir``."""
    if exp_id in ("s1", "s2", "s3"):
        return {**SYMBOLIC, "cache_dir": str(cache_dir)}
    if exp_id == "s4":
        return {**S4, "cache_dir": str(cache_dir)}
    if exp_id in ("a1", "a2", "a3", "baseline-paper"):
        return {**AUDIO, "render_cache": str(cache_dir / "render")}
    if exp_id in ("f1", "f2", "f3", "baseline-ranker"):
        return {**FUSION, "cache_dir": str(cache_dir)}
    if exp_id == "baseline-features":
        return dict(FEATURES)
    raise KeyError(f"no tiny preset for {exp_id!r}")
