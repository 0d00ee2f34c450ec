from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from audio_testing import tone
from piano_audio import MuQBackbone, muq_large
from piano_audio.unfreeze import GradualUnfreezing, UnfreezeSchedule, discriminative_param_groups
from torch import nn


def _trainable_layers(backbone: MuQBackbone) -> list[int]:
    return [
        i
        for i in range(1, backbone.config.encoder_depth + 1)
        if all(p.requires_grad for p in backbone.layer_parameters(i))
    ]


def test_schedule_on_the_large_layout() -> None:
    backbone = MuQBackbone(muq_large(), meta=True)
    schedule = UnfreezeSchedule.every(100, top_lr=1e-4, decay=0.5, unit="step")
    callback = GradualUnfreezing(schedule, backbone=backbone)
    backbone.freeze()
    seen = {}
    for step in range(0, 401, 50):
        callback.apply(backbone, step)
        seen[step] = _trainable_layers(backbone)
    assert seen[0] == [12] and seen[50] == [12]
    assert seen[100] == [11, 12] and seen[200] == [10, 11, 12]
    assert seen[300] == seen[400] == [9, 10, 11, 12]
    assert callback.history == [(0, 12), (100, 11), (200, 10), (300, 9)]
    # everything below layer 9 (and the conv front end) stays frozen
    assert not any(p.requires_grad for p in backbone.muq.model.conv.parameters())

    groups = discriminative_param_groups(backbone, schedule, head=[nn.Parameter(torch.zeros(3))], head_lr=1e-3)
    rates = {g["name"]: g["lr"] for g in groups}
    assert rates["muq_layer_12"] == pytest.approx(1e-4) and rates["muq_layer_9"] == pytest.approx(1.25e-5)
    assert rates["muq_layer_12"] > rates["muq_layer_11"] > rates["muq_layer_10"] > rates["muq_layer_9"]
    assert rates["head"] == 1e-3


def test_bad_schedules() -> None:
    with pytest.raises(ValueError, match="same length"):
        UnfreezeSchedule(layers=(12, 11), at=(0,))
    with pytest.raises(ValueError, match="non-decreasing"):
        UnfreezeSchedule(layers=(12, 11), at=(5, 0))


class _Probe(L.LightningModule):
    def __init__(self, backbone: MuQBackbone, schedule: UnfreezeSchedule) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.output_dim, 1)
        self.schedule = schedule
        self.trainable_per_step: list[list[int]] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        self.trainable_per_step.append(_trainable_layers(self.backbone))
        return self.head(self.backbone(batch).frames).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        groups = discriminative_param_groups(self.backbone, self.schedule, self.head.parameters(), head_lr=1e-2)
        return torch.optim.AdamW(groups, lr=1e-2)


def test_callback_in_a_lightning_run(tiny: MuQBackbone, tmp_path: Path) -> None:
    schedule = UnfreezeSchedule(layers=(2, 1), at=(0, 2), unit="step", top_lr=1e-2)
    probe = _Probe(tiny, schedule)
    layer1_before = [p.detach().clone() for p in tiny.layer_parameters(1)]
    conv_before = [p.detach().clone() for p in tiny.muq.model.conv.parameters()]
    data = torch.utils.data.DataLoader(torch.from_numpy(tone(1.0))[None].repeat(4, 1), batch_size=1)
    trainer = L.Trainer(
        max_steps=4,
        callbacks=[GradualUnfreezing(schedule, attr="backbone")],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(probe, data)
    assert probe.trainable_per_step == [[2], [2], [1, 2], [1, 2]]
    assert any(not torch.equal(a, b) for a, b in zip(layer1_before, tiny.layer_parameters(1), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(conv_before, tiny.muq.model.conv.parameters(), strict=True))
