from __future__ import annotations

import math

import torch
from audio_testing import tone
from piano_audio import MuQBackbone
from piano_audio.adaptation import (
    AudioContrastiveModel,
    AudioRegressor,
    cross_performer_contrastive_loss,
    invariance_loss,
)
from piano_audio.lora import MuQLoRAConfig, apply_lora
from piano_audio.unfreeze import UnfreezeSchedule


def _batch(n: int = 4) -> dict:
    waves = torch.stack([torch.from_numpy(tone(1.0, freq=220 * (1 + i % 2))) for i in range(n)])
    return {
        "audio": waves,
        "augmented": waves + 0.01 * torch.randn_like(waves),
        "lengths": torch.full((n,), waves.shape[1]),
        "piece": torch.tensor([0, 0, 1, 1][:n]),
        "performer": torch.tensor([0, 1, 0, 1][:n]),
        "labels": torch.rand(n, 19),
    }


def test_contrastive_loss_known_answers() -> None:
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    piece = torch.tensor([0, 0, 1, 1])
    # each anchor: one positive at cos 1, one at cos 1 excluded (self), two negatives at cos 0
    expected = -math.log(math.exp(10) / (math.exp(10) + 2))
    got = cross_performer_contrastive_loss(z, piece, torch.tensor([0, 1, 0, 1]), temperature=0.1)
    assert abs(float(got) - expected) < 1e-5
    # the same performer twice is not a positive: no anchor has one, the loss is zero
    same = cross_performer_contrastive_loss(z, piece, torch.tensor([0, 0, 1, 1]))
    assert float(same) == 0.0
    assert float(invariance_loss(z[[0, 2]], z[[0, 2]], temperature=0.1)) < 1e-3


def test_contrastive_model_trains_only_lora_and_projection(tiny: MuQBackbone) -> None:
    model = AudioContrastiveModel(apply_lora(tiny, MuQLoRAConfig(rank=2, layers=(1, 2))), proj_dim=8)
    model.train()
    terms = model.pretraining_loss(_batch())
    assert set(terms) == {"loss", "contrastive", "invariance"} and torch.isfinite(terms["loss"])
    terms["loss"].backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None}
    assert any("lora_" in n for n in grads) and any(n.startswith("projection") for n in grads)
    assert all("lora_" in n or n.startswith("projection") for n in grads)


def test_regressor_outputs_and_discriminative_groups(tiny: MuQBackbone) -> None:
    schedule = UnfreezeSchedule(layers=(2, 1), at=(1, 2), top_lr=1e-3, decay=0.1)
    model = AudioRegressor(tiny.freeze(), hidden=16, schedule=schedule)
    pred = model(_batch())
    assert pred.shape == (4, 19) and bool(((pred > 0) & (pred < 1)).all())
    groups = {g["name"]: g["lr"] for g in model.param_groups(5e-3)}
    assert groups == {"muq_layer_2": 1e-3, "muq_layer_1": groups["muq_layer_1"], "head": 5e-3}
    assert abs(groups["muq_layer_1"] - 1e-4) < 1e-12
