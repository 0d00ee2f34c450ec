"""The multi-tier objective and loader: a tiny encoder on a synthetic T1 + T2 + T3 mix learns every term."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from piano_data.contracts import EncoderOutput
from piano_data.samples import Segment
from piano_data.tiers.competition import CompetitionRecording
from piano_eval.errors import UsageError
from piano_eval.experiments.config import TierKeys, config_dict
from piano_eval.training import MultiTierModule, TrainConfig, fit_module, tier_loader, tier_objective, tier_step
from piano_fusion import EncoderRegressor, QualityObjective
from torch import nn
from torch.utils.data import DataLoader

D, T, N_PIECES, N_PLAYERS = 8, 6, 8, 4


class _FrameEncoder(nn.Module):
    """``{"x" [B, T, D], "mask"}`` -> one linear layer per frame."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(D, 16)
        self.output_dim = 16

    def forward(self, batch: dict[str, Any]) -> EncoderOutput:
        return EncoderOutput(self.proj(batch["x"]), batch["mask"])


def _frames(rng: np.random.Generator, piece_vec: np.ndarray, skill: float, skill_dir: np.ndarray) -> torch.Tensor:
    x = piece_vec[None] + skill * skill_dir[None] + 0.3 * rng.normal(size=(T, D))
    return torch.tensor(x, dtype=torch.float32)


def _collate(items: list[tuple[torch.Tensor, np.ndarray, str]]) -> dict[str, Any]:
    return {
        "x": torch.stack([it[0] for it in items]),
        "mask": torch.ones(len(items), T, dtype=torch.bool),
        "labels": torch.tensor(np.stack([it[1] for it in items]), dtype=torch.float32),
        "group": [it[2] for it in items],
    }


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    """Pieces (a direction each) played by performers of different skill; labels and placements from skill."""
    rng = np.random.default_rng(0)
    pieces = rng.normal(size=(N_PIECES, D)) * 1.5
    skill_dir = rng.normal(size=D)
    skills = np.linspace(0.1, 0.9, N_PLAYERS)
    segments, items = [], []
    for p in range(N_PIECES):
        for k in range(N_PLAYERS):
            labels = np.clip(skills[k] + 0.05 * rng.normal(size=19), 0, 1)
            seg = Segment(f"p{p}_k{k}", Path("none.mid"), f"piece{p}", "0", f"player{k}", f"work{p}", labels=labels)
            segments.append(seg)
            items.append((_frames(rng, pieces[p], skills[k], skill_dir), labels, seg.group))
    # T2: a competition on two pieces; better placement = more skill (the manifest's audio files only exist)
    rows = []
    for k in range(N_PLAYERS):
        for p in (0, 1):
            audio = tmp_path / f"r{k}_{p}.wav"
            audio.touch()
            rows.append([f"r{k}_{p}", "comp", f"round{p}", str(N_PLAYERS - k), f"piece{p}", f"player{k}", audio.name])
    manifest = tmp_path / "competition.csv"
    with manifest.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["recording_id", "competition", "round", "placement", "piece", "performer", "audio_path"])
        writer.writerows(rows)

    def recordings_items(recs: Sequence[CompetitionRecording]) -> list[Any]:
        out = []
        for r in recs:
            k, p = int(r.performer[len("player") :]), int(r.piece[len("piece") :])
            out.append((_frames(rng, pieces[p], skills[k], skill_dir), np.full(19, np.nan), r.piece))
        return out

    return {"segments": segments, "items": items, "manifest": manifest, "recordings_items": recordings_items}


def _config(**changes: Any) -> dict[str, Any]:
    return {**config_dict(TierKeys()), **changes}


def test_each_loss_term_decreases_on_a_synthetic_t1_t2_t3_mix(world: dict[str, Any], tmp_path: Path) -> None:
    config = _config(
        competition_manifest=str(world["manifest"]), tier_weights={"t1": 1.0, "t2": 1.0, "t3": 1.0}, contrast_weight=1.0
    )
    loader = tier_loader(
        world["segments"], world["items"], _collate, config, batch_size=8, seed=0, where="test",
        recordings_items=world["recordings_items"],
    )  # fmt: skip
    assert set(loader.loaders) == {"t1", "t2", "t3"}
    fixed = {}
    for tier, batch in loader:  # one fixed batch of each tier to measure the terms on
        fixed.setdefault(tier, batch)
    assert set(fixed) == {"t1", "t2", "t3"}
    objective = tier_objective(config, QualityObjective(rank_weight=0.1, temperature=0.02), rank_temperature=0.02)
    model = EncoderRegressor(_FrameEncoder(), hidden=16, dropout=0.0, pool_hidden=8)

    def terms() -> dict[str, float]:
        model.eval()
        with torch.no_grad():
            t1 = tier_step(model, "t1", fixed["t1"], objective)
            t2 = tier_step(model, "t2", fixed["t2"], objective)
            t3 = tier_step(model, "t3", fixed["t3"], objective)
        return {"mse": float(t1["mse"]), "ordinal": float(t2["ordinal_rank"]), "contrast": float(t3["contrast"])}

    before = terms()
    model.train()
    cfg = TrainConfig(max_epochs=20, lr=1e-2, progress_bar=False, warmup_frac=0.0, log_every_n_steps=1)
    module = MultiTierModule(model, cfg, objective)
    fit_module(module, loader, None, cfg, tmp_path / "run")  # type: ignore[arg-type]
    after = terms()
    for name in ("mse", "ordinal", "contrast"):
        assert after[name] < 0.8 * before[name], (name, before, after)
    assert loader.epoch == 19  # the module moved the mixer on every epoch (a new tier order each time)
    logged = (tmp_path / "run" / "csv" / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train_t1_mse", "train_t1_rank", "train_t2_ordinal_rank", "train_t3_contrast"} <= set(logged)


def test_tier_loader_yields_the_configured_tiers(world: dict[str, Any]) -> None:
    def tiers(**changes: Any) -> set[str]:
        loader = tier_loader(
            world["segments"], world["items"], _collate, _config(**changes), batch_size=8, seed=1, where="test",
            recordings_items=world["recordings_items"],
        )  # fmt: skip
        return {tier for tier, _ in loader}

    assert tiers() == {"t1", "t3"}  # the default: no competition manifest
    assert tiers(tier_weights={"t1": 1.0, "t3": 0.0}) == {"t1"}
    assert tiers(competition_manifest=str(world["manifest"])) == {"t1", "t2", "t3"}


def test_t1_keeps_its_epoch_and_t3_pairs_are_same_passage_different_players(world: dict[str, Any]) -> None:
    loader = tier_loader(world["segments"], world["items"], _collate, _config(), batch_size=8, seed=0, where="t")
    plain = DataLoader(world["items"], batch_size=8)
    assert loader.steps == round(len(plain) * 1.2)
    batch = next(iter(loader.loaders["t3"]))
    n = batch["n"]
    assert batch["x"]["x"].shape[0] == 2 * n and len(batch["piece"]) == n == 4
    groups = batch["x"]["group"]
    assert groups[:n] == groups[n:] == batch["piece"]
    first, second = batch["x"]["labels"][:n, 0], batch["x"]["labels"][n:, 0]
    assert bool((first != second).all())  # different players of one passage (their labels differ)


def test_bad_tier_settings_are_one_line_errors(world: dict[str, Any]) -> None:
    args = (world["segments"], world["items"], _collate)
    with pytest.raises(UsageError, match="tier_weights must map"):
        tier_loader(*args, _config(tier_weights={"t1": 1.0, "t5": 1.0}), batch_size=8, seed=0, where="x")
    with pytest.raises(UsageError, match="cannot read competition recordings"):
        tier_loader(*args, _config(competition_manifest=str(world["manifest"])), batch_size=8, seed=0, where="x")
