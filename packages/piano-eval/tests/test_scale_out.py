"""Scale-out is Lightning's: the same learned fit with ``strategy="ddp"`` on 2 CPU processes (gloo) ends with
the weights of the single-process fit, given the same global batch (per-device batch halved) and seed.

Lightning's ``ddp`` starts the other process by running the launching script again, so the 2-process fit
runs in a subprocess of this file (``python test_scale_out.py WORKDIR OUT.npz``), not inside pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from piano_data.rng import seeded
from piano_data.tiers.pieces import SamePieceBatchSampler
from piano_eval.training import SupervisedModule, TrainConfig, fit_module
from torch import nn
from torch.utils.data import DataLoader

GLOBAL_BATCH = 8


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 19))

    def forward(self, batch: dict) -> torch.Tensor:
        return torch.sigmoid(self.net(batch["x"]))


def _items(n: int = 32) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 6, generator=g)
    y = torch.sigmoid(x @ torch.randn(6, 19, generator=g))
    return [{"x": x[i], "labels": y[i], "group": f"piece{i // 2}"} for i in range(n)]  # 16 same-piece pairs


def _collate(batch: list[dict]) -> dict:
    return {
        "x": torch.stack([b["x"] for b in batch]),
        "labels": torch.stack([b["labels"] for b in batch]),
        "group": [b["group"] for b in batch],
    }


def train(devices: int, strategy: str, workdir: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Initial and final weights of one seeded fit through :func:`fit_module` with the experiments' sampler."""
    cfg = TrainConfig(
        max_epochs=3, lr=5e-3, batch_size=GLOBAL_BATCH // devices, devices=devices, strategy=strategy, seed=3,
        progress_bar=False, patience=50, save_top_k=1, log_every_n_steps=1,
    )  # fmt: skip
    items = _items()
    sampler = SamePieceBatchSampler([it["group"] for it in items], cfg.batch_size, seed=cfg.seed)
    train_loader = DataLoader(items, batch_sampler=sampler, collate_fn=_collate)
    val_loader = DataLoader(items[:16], batch_size=8, collate_fn=_collate)
    with seeded(0):
        model = _Net()
    start = {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
    fit_module(SupervisedModule(model, cfg), train_loader, val_loader, cfg, workdir)
    return start, {k: v.detach().numpy() for k, v in model.state_dict().items()}


def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path: Path) -> None:
    start, single = train(1, "auto", tmp_path / "one")
    out = tmp_path / "ddp.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, __file__, str(tmp_path / "ddp"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr + proc.stdout
    assert "distributed_backend=gloo" in log and "Starting with 2 processes" in log
    ddp = dict(np.load(out))
    assert set(ddp) == set(single)
    assert max(np.abs(single[k] - start[k]).max() for k in single) > 1e-3  # it trained
    for k in single:
        np.testing.assert_allclose(ddp[k], single[k], rtol=0, atol=1e-6, err_msg=k)


if __name__ == "__main__":  # the 2-process fit; Lightning runs this file again for rank 1
    _, weights = train(2, "ddp", Path(sys.argv[1]))
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        np.savez(sys.argv[2], **weights)
