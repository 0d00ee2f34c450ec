"""A1-A3's models: a tiny random MuQ composed with piano_fusion's pooling, head and losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from piano_audio import MuQBackbone, muq_backbone, muq_tiny
from piano_audio.lora import MuQLoRAConfig, apply_lora
from piano_audio.unfreeze import UnfreezeSchedule
from piano_eval.experiments.audio_models import AudioContrastiveModel, AudioRegressor


@pytest.fixture
def tiny() -> MuQBackbone:
    return muq_backbone(muq_tiny())


def _tone(seconds: float, freq: float) -> torch.Tensor:
    t = np.arange(int(seconds * 24_000)) / 24_000
    return torch.from_numpy((0.3 * np.exp(-2 * t) * np.sin(2 * np.pi * freq * t)).astype(np.float32))


def _batch(n: int = 4) -> dict:
    waves = torch.stack([_tone(1.0, 220 * (1 + i % 2)) for i in range(n)])
    return {
        "audio": waves,
        "augmented": waves + 0.01 * torch.randn_like(waves),
        "lengths": torch.full((n,), waves.shape[1]),
        "piece": torch.tensor([0, 0, 1, 1][:n]),
        "performer": torch.tensor([0, 1, 0, 1][:n]),
        "labels": torch.rand(n, 19),
    }


def test_contrastive_model_trains_only_lora_and_projection(tiny: MuQBackbone) -> None:
    model = AudioContrastiveModel(apply_lora(tiny, MuQLoRAConfig(rank=2, layers=(1, 2))), proj_dim=8)
    model.train()
    terms = model.pretraining_loss(_batch())
    assert set(terms) == {"loss", "contrastive", "invariance"} and torch.isfinite(terms["loss"])
    assert float(terms["contrastive"]) > 0 and float(terms["invariance"]) > 0
    terms["loss"].backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None}
    assert any("lora_" in n for n in grads) and any(n.startswith("projection") for n in grads)
    assert all("lora_" in n or n.startswith("projection") for n in grads)


def test_contrastive_model_same_performer_is_no_positive(tiny: MuQBackbone) -> None:
    model = AudioContrastiveModel(tiny, proj_dim=8, invariance_weight=0.0)
    batch = {**_batch(), "performer": torch.tensor([0, 0, 1, 1])}
    assert float(model.pretraining_loss(batch)["contrastive"]) == 0.0


def test_regressor_outputs_and_discriminative_groups(tiny: MuQBackbone) -> None:
    schedule = UnfreezeSchedule(layers=(2, 1), at=(1, 2), top_lr=1e-3, decay=0.1)
    model = AudioRegressor(tiny.freeze(), hidden=16, schedule=schedule)
    pred = model(_batch())
    assert pred.shape == (4, 19) and bool(((pred > 0) & (pred < 1)).all())
    groups = {g["name"]: g["lr"] for g in model.param_groups(5e-3)}
    assert groups == {"muq_layer_2": 1e-3, "muq_layer_1": groups["muq_layer_1"], "head": 5e-3}
    assert abs(groups["muq_layer_1"] - 1e-4) < 1e-12
    head = {id(p) for g in model.param_groups(5e-3) if g["name"] == "head" for p in g["params"]}
    assert head == {id(p) for p in [*model.pool.parameters(), *model.head.parameters()]}


def test_regressor_without_schedule_trains_what_is_trainable(tiny: MuQBackbone) -> None:
    model = AudioRegressor(apply_lora(tiny, MuQLoRAConfig(rank=2, layers=(1, 2))), hidden=16)
    groups = model.param_groups(1e-3)
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert {id(p) for g in groups for p in g["params"]} == trainable
    assert all(g["lr"] == 1e-3 for g in groups)
