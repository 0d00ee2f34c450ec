from __future__ import annotations

from pathlib import Path

import pytest
import torch
from piano_eval.training import (
    SelfSupervisedModule,
    SupervisedModule,
    TrainConfig,
    cosine_with_warmup,
    fit_module,
)
from torch import nn
from torch.utils.data import DataLoader


def test_cosine_with_warmup_shape() -> None:
    f = cosine_with_warmup(100, 0.05)
    assert f(0) == pytest.approx(0.2)
    assert f(4) == pytest.approx(1.0)
    assert f(52) == pytest.approx(0.5, abs=0.02)
    assert f(100) == pytest.approx(0.0, abs=1e-6)


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 19))

    def forward(self, batch: dict) -> torch.Tensor:
        return torch.sigmoid(self.net(batch["x"]))

    def pretraining_loss(self, batch: dict) -> dict[str, torch.Tensor]:
        recon = self.net(batch["x"])[:, :4]
        loss = ((recon - batch["x"]) ** 2).mean()
        return {"loss": loss, "recon": loss}


def _loader(n: int = 64) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    w = torch.randn(4, 19, generator=g)
    y = torch.sigmoid(x @ w)
    items = [{"x": x[i], "labels": y[i], "group": f"g{i % 8}"} for i in range(n)]

    def collate(batch: list[dict]) -> dict:
        return {
            "x": torch.stack([b["x"] for b in batch]),
            "labels": torch.stack([b["labels"] for b in batch]),
            "group": [b["group"] for b in batch],
        }

    return DataLoader(items, batch_size=16, collate_fn=collate)


def test_supervised_recipe_learns_and_checkpoints(tmp_path: Path) -> None:
    cfg = TrainConfig(max_epochs=25, lr=1e-2, progress_bar=False, patience=50)
    model = _Tiny()
    module = SupervisedModule(model, cfg)
    loader = _loader()
    before = float(((model(next(iter(loader))) - next(iter(loader))["labels"]) ** 2).mean())
    best = fit_module(module, loader, _loader(), cfg, tmp_path, monitor="val_r2", mode="max")
    assert best is not None and best.is_file()
    assert len(list((tmp_path / "checkpoints").glob("*.ckpt"))) <= cfg.save_top_k
    after = float(((model(next(iter(loader))) - next(iter(loader))["labels"]) ** 2).mean())
    assert after < before * 0.5
    assert (tmp_path / "csv").is_dir()


def test_self_supervised_recipe_without_validation(tmp_path: Path) -> None:
    cfg = TrainConfig(max_epochs=3, lr=1e-2, progress_bar=False)
    assert fit_module(SelfSupervisedModule(_Tiny(), cfg), _loader(), None, cfg, tmp_path) is None


def test_bf16_mixed_runs_on_cpu(tmp_path: Path) -> None:
    cfg = TrainConfig(max_epochs=1, precision="bf16-mixed", progress_bar=False)
    fit_module(SupervisedModule(_Tiny(), cfg), _loader(32), _loader(32), cfg, tmp_path)


def test_fit_is_seeded_and_leaves_global_rng_alone(tmp_path: Path) -> None:
    import random

    import numpy as np

    cfg = TrainConfig(max_epochs=2, lr=1e-2, progress_bar=False, seed=7)
    weights = []
    for k in range(2):
        torch.manual_seed(0)
        model = _Tiny()
        loader = DataLoader(list(_loader().dataset), batch_size=16, shuffle=True, collate_fn=_loader().collate_fn)
        torch.manual_seed(123 + k)  # the caller's state differs between the runs; training must not depend on it
        fit_module(SupervisedModule(model, cfg), loader, None, cfg, tmp_path / str(k))
        weights.append(model.net[0].weight.detach().clone())
    assert torch.equal(weights[0], weights[1])  # shuffling seeded by cfg.seed
    model = _Tiny()
    torch.manual_seed(0)
    random.seed(1)
    np.random.seed(2)
    before = (torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy())
    fit_module(SupervisedModule(model, cfg), _loader(), None, cfg, tmp_path / "x")
    assert torch.equal(torch.get_rng_state(), before[0])
    assert random.getstate() == before[1] and np.array_equal(np.random.get_state()[1], before[2])


def test_self_supervised_module_hands_loss_kwargs(tmp_path: Path) -> None:
    seen = []

    class _Needs(_Tiny):
        def pretraining_loss(self, batch: dict, extra: object = None) -> dict[str, torch.Tensor]:  # type: ignore[override]
            seen.append(extra)
            return super().pretraining_loss(batch)

    cfg = TrainConfig(max_epochs=1, lr=1e-2, progress_bar=False)
    fit_module(SelfSupervisedModule(_Needs(), cfg, loss_kwargs={"extra": "x"}), _loader(16), None, cfg, tmp_path)
    assert seen and set(seen) == {"x"}


@pytest.mark.parametrize("command", ["run", "train"])
def test_scale_out_options_reach_the_trainer(command: str, tmp_path: Path) -> None:
    """--accelerator/--devices/--num-nodes/--strategy/--precision go unchanged to Lightning's Trainer."""
    from piano_eval.cli.main import build_parser
    from piano_eval.cli.run import run_context
    from piano_eval.training import build_trainer, hardware_options

    extra = ["--output", str(tmp_path / "ckpt")] if command == "train" else []
    argv = [command, "s2", *extra, "--devices", "2", "--num-nodes", "1", "--strategy", "ddp"]
    args = build_parser(command).parse_args([*argv, "--precision", "bf16-mixed"])
    options = run_context(args, tmp_path).options
    hardware = hardware_options(options)
    expected = {"accelerator": "cpu", "devices": 2, "num_nodes": 1, "strategy": "ddp", "precision": "bf16-mixed"}
    assert hardware == expected
    trainer, _ = build_trainer(TrainConfig(**hardware), tmp_path / "w", monitor=None)  # launches nothing yet
    assert (trainer.num_devices, trainer.num_nodes, type(trainer.strategy).__name__) == (2, 1, "DDPStrategy")
    assert hardware_options({"devices": "auto", "precision": None}) == {"devices": "auto"}
