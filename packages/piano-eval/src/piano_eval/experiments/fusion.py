"""``f1``, ``f2``, ``f3``: a symbolic and an audio track fused by cross-attention, concatenation or gates.

Both tracks are extracted once in :meth:`prepare` (label-free; see
:mod:`piano_eval.experiments.fusion_tracks`) and cached; every fold then trains a fresh
``piano_fusion.PianoModel`` (fusion + heads; encoders frozen, their outputs precomputed) with the shared
Lightning recipe on the data tiers (:func:`piano_eval.training.tier_loader`: MSE + a same-passage pairwise
ranking term on T1 same-piece batches, the same-passage contrast of T3 on the fused embedding), early stopped
on a held-out 15% of the training groups, and predicts the test fold's 19 dimensions. F3 also records its mean
audio gate per dimension in the results file (``config.audio_gate_per_dimension``).
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
from piano_eval.experiments.base import Experiment, Prediction, RunContext
from piano_eval.experiments.config import TierKeys
from piano_eval.experiments.fusion_tracks import audio_track, s1_bundle, stride_pool, symbolic_track

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionExperimentConfig(TierKeys):
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
    # a single track (ablation) needs f2, the only one-input fusion; "score_midi" adds the score's own symbolic
    # track (the same encoder over the score MIDI): the model is then score-conditioned, f(a, m, s) (FiLM)
    modalities: list[Literal["audio", "perf_midi", "score_midi"]] = field(
        default_factory=lambda: ["audio", "perf_midi"]
    )
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
SCORE: Literal["score_midi"] = "score_midi"


def score_view(segments: Sequence[Segment], where: str) -> list[Segment]:
    """The segments with their score MIDI in place of the performance (the score track is keyed like them)."""
    from dataclasses import replace

    missing = [s.key for s in segments if s.score_midi_path is None]
    if missing:
        raise UsageError(
            f"{where}: the score_midi modality needs a score MIDI for every segment; {len(missing)} have none "
            f"(first: {missing[0]})"
        )
    return [replace(s, midi_path=Path(s.score_midi_path or "")) for s in segments]


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

    def embed(self, batch: dict[str, Any]) -> torch.Tensor:
        """The fused embedding ``[B, z_dim]`` (what the T3 contrast compares)."""
        self.forward(batch)
        assert self.last is not None
        return self.last.embedding


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
        self._in_dims: dict[str, int] = {}
        self._s1: tuple[Any, str] | None = None  # the S1 bundle of the symbolic track and its weights id
        self._muq_weights: str | None = None
        self._fitted: _Regressor | None = None
        mods = tuple(self.config["modalities"])
        if not mods or len(set(mods)) != len(mods):
            raise UsageError(
                f"experiment {self.id!r}: modalities must be a non-empty subset of [audio, perf_midi, score_midi]"
            )
        if SCORE in mods and not set(mods) & {AUDIO, SYMBOLIC}:
            raise UsageError(f"experiment {self.id!r}: score_midi needs audio or perf_midi beside it")
        self.modalities: tuple[Modality, ...] = mods

    # ---------------------------------------------------------------------------------------------- prepare
    def _cache_dir(self) -> Path:
        return Path(self.config["cache_dir"] or cache_root()) / "fusion"

    def _track_config(self) -> dict[str, Any]:
        return {**self.config, "cache_dir": str(self._cache_dir())}

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        cfg = self._track_config()
        cache = EmbeddingCache(Path(cfg["cache_dir"]) / "embeddings")
        self._muq_weights = ctx.option("muq_weights")
        if {SYMBOLIC, SCORE} & set(self.modalities) and cfg["symbolic_track"] == "s1":
            self._s1 = s1_bundle(segments, cfg, ctx, Path(cfg["cache_dir"]))
        for m, (frames, description) in self._make_tracks(segments, cfg, ctx, cache).items():
            self._tracks[m], self._descriptions[m] = frames, description
        for m, frames in self._tracks.items():  # per-channel standardisation from all frames (label-free)
            cat = np.concatenate([np.asarray(a, dtype=np.float32) for a in frames.values()])
            self._stats[m] = (cat.mean(0), cat.std(0) + 1e-4)
            self._in_dims[m] = int(next(iter(frames.values())).shape[1])
        log.info("tracks: %s", self._descriptions)

    def _new_tracks(self, segments: Sequence[Segment], ctx: RunContext) -> dict[str, dict[str, np.ndarray]]:
        """The tracks of new segments, made as in :meth:`prepare` with its S1 and MuQ (in a temporary cache)."""
        import tempfile
        from dataclasses import replace

        cfg = self._track_config()
        ctx = replace(ctx, options={**ctx.options, "muq_weights": self._muq_weights})
        with tempfile.TemporaryDirectory(prefix="piano-eval-tracks-") as tmp:
            made = self._make_tracks(segments, cfg, ctx, EmbeddingCache(Path(tmp)))
            return {m: {k: np.array(v) for k, v in t.items()} for m, (t, _) in made.items()}  # copies: cache goes

    def _make_tracks(
        self, segments: Sequence[Segment], cfg: dict[str, Any], ctx: RunContext, cache: EmbeddingCache
    ) -> dict[str, tuple[dict[str, np.ndarray], str]]:
        """Each modality's frames per segment key and its description (the score track reads the score MIDI)."""
        made: dict[str, tuple[dict[str, np.ndarray], str]] = {}
        if SYMBOLIC in self.modalities:
            made[SYMBOLIC] = symbolic_track(segments, cfg, ctx, cache, self._s1)
        if SCORE in self.modalities:
            made[SCORE] = symbolic_track(score_view(segments, self.id), cfg, ctx, cache, self._s1)
        if AUDIO in self.modalities:
            made[AUDIO] = audio_track(segments, cfg, ctx, cache)
        return made

    def _items(
        self, segments: Sequence[Segment], tracks: dict[str, dict[str, np.ndarray]] | None = None
    ) -> list[dict[str, Any]]:
        tracks = self._tracks if tracks is None else tracks
        if not tracks:
            raise RuntimeError(f"{self.id}: prepare() must run before fit_predict()")
        limit = int(self.config["max_frames"])
        labels = [s.labels for s in segments]
        items = []
        for s, y in zip(segments, labels, strict=True):
            item: dict[str, Any] = {"group": s.group, "labels": np.full(19, np.nan) if y is None else y}
            for m in self.modalities:
                mean, std = self._stats[m]
                frames = np.asarray(tracks[m][s.key], dtype=np.float32)
                stride = self.config["audio_stride"] if m == AUDIO else self.config["symbolic_train_stride"]
                frames = stride_pool(frames, int(stride))
                item[m] = (frames[:limit] - mean) / std
            items.append(item)
        return items

    @staticmethod
    def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {"group": [it["group"] for it in items]}
        batch["labels"] = torch.tensor(np.stack([it["labels"] for it in items]), dtype=torch.float32)
        for m in (AUDIO, SYMBOLIC, SCORE):
            if m not in items[0]:
                continue
            batch[f"{m}_frames"], batch[f"{m}_mask"] = _pad([it[m] for it in items])
        return batch

    def model_config(self) -> PianoModelConfig:
        c = self.config
        dims = tuple(self._in_dims[m] for m in self.modalities)
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
    def _fit_model(self, train: Sequence[Segment], ctx: RunContext, fold: int) -> _Regressor:
        """A fresh model (seeded by ``fold``) trained on ``train``, 15% of its groups held out."""
        from piano_eval.training import (
            MultiTierModule,
            TrainConfig,
            fit_module,
            hardware_options,
            tier_loader,
            tier_objective,
        )

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
        tr = [train[i] for i in tr_idx]
        loader = tier_loader(
            tr, train_items, self._collate, c, batch_size=tcfg.batch_size, seed=tcfg.seed, where=self.id
        )
        val: DataLoader[Any] | None = (
            DataLoader(val_items, batch_size=64, collate_fn=self._collate) if len(va_idx) else None
        )
        module = MultiTierModule(model, tcfg, tier_objective(c, loss_fn, rank_temperature=0.02))
        fit_module(module, loader, val, tcfg, ctx.workdir / f"{self.id}-fold{fold}", name=f"fold{fold}")
        return model

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        model = self._fit_model(train, ctx, fold)
        return self._predict(model, self._items(test))

    # ------------------------------------------------------------------------------------------- checkpoint
    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        """Train once on ``train`` (as fold 0 of the cross-validation)."""
        self._fitted = self._fit_model(train, ctx, 0)

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        if self._fitted is None:
            raise RuntimeError(f"{self.id}: fit() or load() first")
        return Prediction(self._predict(self._fitted, self._items(segments, self._new_tracks(segments, ctx))))

    def save(self, directory: Path) -> None:
        """``fusion.safetensors|json`` (fusion + heads; the track dims, standardisation and MuQ source) and, for
        the S1 track, ``s1/`` (its piano_symbolic checkpoint)."""
        from piano_data.weights import save_module
        from piano_symbolic.checkpoint import save_encoder_checkpoint

        if self._fitted is None:
            raise RuntimeError(f"{self.id}: fit() first")
        if self._s1 is not None:
            save_encoder_checkpoint(Path(directory) / "s1", self._s1[0])
        spec = {
            "in_dims": self._in_dims,
            "stats": {m: {"mean": a.tolist(), "std": b.tolist()} for m, (a, b) in self._stats.items()},
            "muq_weights": self._muq_weights,
            "s1_id": None if self._s1 is None else self._s1[1],
        }
        save_module(Path(directory), "fusion", self._fitted, spec)

    def load(self, directory: Path) -> None:
        from piano_data.weights import load_module

        def build(spec: dict[str, Any]) -> _Regressor:
            self._in_dims = {m: int(spec["in_dims"][m]) for m in self.modalities}
            self._stats = {
                m: (np.asarray(spec["stats"][m]["mean"], np.float32), np.asarray(spec["stats"][m]["std"], np.float32))
                for m in self.modalities
            }
            self._muq_weights = spec.get("muq_weights")
            return _Regressor(self.model_config())

        self._fitted, spec = load_module(Path(directory), "fusion", build)
        if {SYMBOLIC, SCORE} & set(self.modalities) and self.config["symbolic_track"] == "s1":
            from piano_symbolic.checkpoint import load_encoder_checkpoint
            from piano_symbolic.tokenizer import RemiTokenizer

            bundle, _ = load_encoder_checkpoint(Path(directory) / "s1", RemiTokenizer())
            self._s1 = (bundle, str(spec.get("s1_id") or "s1-checkpoint"))

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
    description = (
        "F1: symbolic (S1) and audio (MuQ) sequences cross-attend both ways, pooled, MLP; "
        "its presets condition it on the score's S1 track (FiLM): f(a, m, s)"
    )


class F2Concat(_FusionExperiment):
    id = "f2"
    kind = "concat"
    description = "F2: pooled symbolic (S1) and audio (MuQ) embeddings concatenated, MLP (baseline fusion)"


class F3Gated(_FusionExperiment):
    id = "f3"
    kind = "gated"
    description = "F3: per-dimension sigmoid gates mixing pooled audio (MuQ) and symbolic (S1) embeddings"
