"""``f1``, ``f2``, ``f3``: a symbolic and an audio track fused by cross-attention, concatenation or gates.

Both tracks are extracted once in :meth:`prepare` (label-free; see
:mod:`piano_eval.experiments.fusion_tracks`) and cached; every fold then trains a fresh
``piano_fusion.PianoModel`` (fusion + heads; encoders frozen, their outputs precomputed) with the shared
Lightning recipe on MSE + a same-passage pairwise ranking term, early stopped on a held-out 15% of the
training groups, and predicts the test fold's 19 dimensions. F3 also records its mean audio gate per
dimension in the results file (``config.audio_gate_per_dimension``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from piano_data.cache import EmbeddingCache
from piano_data.contracts import EncoderOutput
from piano_data.paths import cache_root
from piano_data.rng import seeded
from piano_data.samples import Segment, stack_labels
from piano_data.splits import holdout_groups
from piano_fusion import (
    FusionConfig,
    FusionKind,
    HeadConfig,
    LossWeights,
    Modality,
    MultiTaskLoss,
    PianoModel,
    PianoModelConfig,
    PianoOutput,
)
from torch import nn
from torch.utils.data import DataLoader

from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment, RunContext
from piano_eval.experiments.fusion_tracks import audio_track, stride_pool, symbolic_track

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionExperimentConfig:
    """Preset keys of ``f1``-``f3`` (checked when the experiment is built)."""

    # tracks
    symbolic_track: Literal["s1", "features"] = "s1"  # "features": a stand-in
    audio_track: Literal["muq", "mel"] = "muq"  # muq: tiny random weights unless --muq-weights; mel: stand-in
    soundfont: str = "timgm6mb"  # wheel-shipped (pretty_midi): renders on a bare machine
    symbolic_checkpoint: str | None = None  # a piano_symbolic checkpoint directory; else S1 is pretrained
    s1: dict[str, Any] = field(
        default_factory=lambda: {
            "d_model": 64, "n_layers": 2, "n_heads": 2, "d_ff": 128, "max_len": 256, "max_tokens": 1024
        }
    )  # fmt: skip
    s1_pretrain_epochs: int = 3
    symbolic_stride: int = 4
    max_frames: int = 1024  # frames kept per track and sample (the head of the sequence)
    audio_stride: int = 1  # mean-pool audio frames over this many (2: 12.5 frames/s), at training time
    symbolic_train_stride: int = 1  # further mean-pooling of the cached symbolic frames, at training time
    cache_dir: str | None = None  # default $PIANO_EVAL_CACHE or ~/.cache/piano-eval
    # a single track (ablation) needs f2, the only one-input fusion
    modalities: list[Literal["audio", "perf_midi"]] = field(default_factory=lambda: ["audio", "perf_midi"])
    # fusion + heads
    z_dim: int = 128
    hidden: int = 128
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 1
    dropout: float = 0.1
    # training
    max_epochs: int = 40
    patience: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 16
    ranking_weight: float = 0.2
    ranking_margin: float = 0.05


AUDIO: Literal["audio"] = "audio"
SYMBOLIC: Literal["perf_midi"] = "perf_midi"


class _Regressor(nn.Module):
    """``batch -> quality [B, 19]`` around a :class:`PianoModel`; keeps the last full output for the loss."""

    def __init__(self, cfg: PianoModelConfig) -> None:
        super().__init__()
        self.net = PianoModel(cfg)
        self.last: PianoOutput | None = None

    def param_groups(self, base_lr: float) -> list[dict[str, Any]]:
        return self.net.param_groups(base_lr)

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        inputs = {m: EncoderOutput(batch[f"{m}_frames"], batch[f"{m}_mask"]) for m in self.net.modalities}
        self.last = self.net(inputs)
        return self.last.quality


def _pad(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(len(a) for a in arrays)
    frames = torch.zeros(len(arrays), length, arrays[0].shape[1])
    mask = torch.zeros(len(arrays), length, dtype=torch.bool)
    for i, a in enumerate(arrays):
        frames[i, : len(a)] = torch.from_numpy(np.asarray(a, dtype=np.float32))
        mask[i, : len(a)] = True
    return frames, mask


class _FusionExperiment(Experiment):
    group = "fusion"
    kind: ClassVar[FusionKind]
    config_type: ClassVar[type] = FusionExperimentConfig

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self._tracks: dict[str, dict[str, np.ndarray]] = {}
        self._descriptions: dict[str, str] = {}
        self._stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._gates: list[np.ndarray] = []
        mods = tuple(self.config["modalities"])
        if not mods or len(set(mods)) != len(mods):
            raise UsageError(f"experiment {self.id!r}: modalities must be a non-empty subset of [audio, perf_midi]")
        self.modalities: tuple[Modality, ...] = mods

    # ---------------------------------------------------------------------------------------------- prepare
    def _cache_dir(self) -> Path:
        return Path(self.config["cache_dir"] or cache_root()) / "fusion"

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        cfg = {**self.config, "cache_dir": str(self._cache_dir())}
        cache = EmbeddingCache(Path(cfg["cache_dir"]) / "embeddings")
        if SYMBOLIC in self.modalities:
            self._tracks[SYMBOLIC], self._descriptions[SYMBOLIC] = symbolic_track(segments, cfg, ctx, cache)
        if AUDIO in self.modalities:
            self._tracks[AUDIO], self._descriptions[AUDIO] = audio_track(segments, cfg, ctx, cache)
        for m, frames in self._tracks.items():  # per-channel standardisation from all frames (label-free)
            cat = np.concatenate([np.asarray(a, dtype=np.float32) for a in frames.values()])
            self._stats[m] = (cat.mean(0), cat.std(0) + 1e-4)
        log.info("tracks: %s", self._descriptions)

    def _items(self, segments: Sequence[Segment]) -> list[dict[str, Any]]:
        if not self._tracks:
            raise RuntimeError(f"{self.id}: prepare() must run before fit_predict()")
        limit = int(self.config["max_frames"])
        labels = [s.labels for s in segments]
        items = []
        for s, y in zip(segments, labels, strict=True):
            item: dict[str, Any] = {"group": s.group, "labels": np.full(19, np.nan) if y is None else y}
            for m in self.modalities:
                mean, std = self._stats[m]
                frames = np.asarray(self._tracks[m][s.key], dtype=np.float32)
                stride = self.config["audio_stride"] if m == AUDIO else self.config["symbolic_train_stride"]
                frames = stride_pool(frames, int(stride))
                item[m] = (frames[:limit] - mean) / std
            items.append(item)
        return items

    @staticmethod
    def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {"group": [it["group"] for it in items]}
        batch["labels"] = torch.tensor(np.stack([it["labels"] for it in items]), dtype=torch.float32)
        for m in (AUDIO, SYMBOLIC):
            if m not in items[0]:
                continue
            batch[f"{m}_frames"], batch[f"{m}_mask"] = _pad([it[m] for it in items])
        return batch

    def model_config(self) -> PianoModelConfig:
        c = self.config
        dims = tuple(next(iter(self._tracks[m].values())).shape[1] for m in self.modalities)
        fusion = FusionConfig(
            kind=self.kind, z_dim=c["z_dim"], hidden=c["hidden"], pool_hidden=64, dropout=c["dropout"],
            d_model=c["d_model"], n_heads=c["n_heads"], n_layers=c["n_layers"],
        )  # fmt: skip
        heads = HeadConfig(hidden=c["hidden"], dropout=c["dropout"])
        return PianoModelConfig(modalities=self.modalities, in_dims=dims, fusion=fusion, heads=heads)

    def loss_weights(self) -> LossWeights:
        """MSE plus the same-passage ranking term (the ranker baseline adds piece-based InfoNCE)."""
        c = self.config
        return LossWeights(
            regression=1.0, ranking=float(c["ranking_weight"]), ranking_margin=float(c["ranking_margin"])
        )

    # ------------------------------------------------------------------------------------------ fit_predict
    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        from piano_eval.training import SupervisedModule, TrainConfig, fit_module, hardware_options

        c = self.config
        stack_labels(list(train))  # every training segment must be labelled
        tr_idx, va_idx = holdout_groups(train, 0.15, seed=ctx.seed + fold)
        items = self._items(train)
        tcfg = TrainConfig(
            max_epochs=int(c["max_epochs"]), lr=float(c["lr"]), weight_decay=float(c["weight_decay"]),
            patience=int(c["patience"]), batch_size=int(c["batch_size"]), seed=ctx.seed * 100 + fold,
            progress_bar=False, save_top_k=1, **hardware_options(ctx.options),
        )  # fmt: skip
        with seeded(tcfg.seed):
            model = _Regressor(self.model_config())
        crit = MultiTaskLoss(self.loss_weights())

        def loss_fn(pred: torch.Tensor, batch: Any) -> dict[str, torch.Tensor]:
            assert model.last is not None
            return crit(model.last, {"labels": batch["labels"], "piece": batch["group"]})

        train_items: Any = [items[i] for i in tr_idx]
        val_items: Any = [items[i] for i in va_idx]
        loader: DataLoader[Any] = DataLoader(
            train_items, batch_size=tcfg.batch_size, shuffle=True, collate_fn=self._collate
        )
        val: DataLoader[Any] | None = (
            DataLoader(val_items, batch_size=64, collate_fn=self._collate) if len(va_idx) else None
        )
        module = SupervisedModule(model, tcfg, loss_fn)
        fit_module(module, loader, val, tcfg, ctx.workdir / f"{self.id}-fold{fold}", name=f"fold{fold}")
        return self._predict(model, self._items(test))

    def _predict(self, model: _Regressor, items: list[dict[str, Any]]) -> np.ndarray:
        model.eval()
        preds, gates = [], []
        device = next(model.parameters()).device
        with torch.no_grad():
            for i in range(0, len(items), 64):
                batch = self._collate(items[i : i + 64])
                batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
                preds.append(model(batch).float().cpu().numpy())
                if model.last is not None and model.last.gates is not None:
                    gates.append(model.last.gates[..., 0].float().cpu().numpy())
        if gates:
            self._gates.append(np.concatenate(gates).mean(0))
        return np.clip(np.concatenate(preds), 0.0, 1.0)

    def describe(self) -> dict[str, Any]:
        doc = super().describe()
        doc["tracks"] = dict(self._descriptions)
        if self._gates:
            from piano_data.contracts import DIMENSIONS

            mean = np.mean(self._gates, axis=0)
            doc["audio_gate_per_dimension"] = {d: round(float(g), 4) for d, g in zip(DIMENSIONS, mean, strict=True)}
        return doc


class F1CrossAttention(_FusionExperiment):
    id = "f1"
    kind = "cross_attention"
    description = "F1: symbolic (S1) and audio (MuQ) sequences cross-attend both ways, pooled, MLP"


class F2Concat(_FusionExperiment):
    id = "f2"
    kind = "concat"
    description = "F2: pooled symbolic (S1) and audio (MuQ) embeddings concatenated, MLP (baseline fusion)"


class F3Gated(_FusionExperiment):
    id = "f3"
    kind = "gated"
    description = "F3: per-dimension sigmoid gates mixing pooled audio (MuQ) and symbolic (S1) embeddings"
