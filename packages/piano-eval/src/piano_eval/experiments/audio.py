"""Audio experiments on rendered PercePiano audio: ``baseline-paper``, ``a1`` (LoRA), ``a2`` (staged), ``a3``.

Audio is rendered from each segment's MIDI with fluidsynth (``soundfont``, cached under ``render_cache``,
default
``$PIANO_EVAL_CACHE/render`` or ``~/.cache/piano-eval/render``). The MuQ backbone is the real model when the
run
gets ``--muq-weights DIR`` (a local folder in the hub layout, or a cached hub id), else a random one built
from a
preset (``muq``: ``tiny`` for quick runs, ``large``). Quick size trains on a subset of each fold's training
segments (``max_train``) with short crops and few epochs; every test segment is predicted.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from piano_audio import MuQBackbone, muq_backbone, muq_large, muq_tiny, resolve_weights
from piano_audio.data import AudioSet, collate
from piano_audio.lora import MuQLoRAConfig, apply_lora, load_lora, save_lora
from piano_audio.unfreeze import GradualUnfreezing, UnfreezeSchedule
from piano_data.paths import cache_root
from piano_data.rng import seeded
from piano_data.samples import Segment
from piano_data.tiers.competition import CompetitionRecording
from piano_data.tiers.pieces import SamePieceBatchSampler, pair_subset
from piano_data.weights import load_module, save_module
from piano_fusion import QualityObjective
from torch.utils.data import DataLoader

from piano_eval.errors import UsageError
from piano_eval.experiments.audio_models import AudioContrastiveModel, AudioRegressor
from piano_eval.experiments.base import Experiment, Group, Prediction, RunContext
from piano_eval.experiments.config import TierKeys
from piano_eval.training import (
    MultiTierModule,
    SelfSupervisedModule,
    TrainConfig,
    fit_module,
    hardware_options,
    tier_loader,
    tier_objective,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioConfig(TierKeys):
    """Preset keys of ``baseline-paper`` and ``a1``-``a3`` (checked when the experiment is built)."""

    muq: Literal["auto", "tiny", "large"] = "auto"  # auto: weights if given, else tiny; large: random 329M
    soundfont: str = "timgm6mb"  # wheel-shipped (pretty_midi): renders on a bare machine
    render_cache: str | None = None
    crop_seconds: float | None = 10.0  # training crop; prediction uses eval_seconds (None: whole segment)
    eval_seconds: float | None = None
    max_train: int | None = None  # subset of each fold's training segments (None: all)
    val_frac: float = 0.15
    epochs: int = 20
    patience: int = 5
    batch_size: int = 8
    lr: float = 1e-3
    hidden: int = 256
    dropout: float = 0.1
    rank_weight: float = 0.5
    # RankNet scores are predictions / rank_temperature (piano_fusion.QualityObjective); 0.25 matches the slope
    # of the logit the audio experiments ranked on before, at a prediction of 0.5
    rank_temperature: float = 0.25
    lora_rank: int = 16
    lora_dropout: float = 0.05
    pretrain_epochs: int = 5
    pretrain_lr: float = 3e-4
    max_pretrain: int | None = None
    invariance_weight: float = 1.0
    unfreeze_every: int = 1  # A3: one more layer every N epochs, the top one after N (head alone first)
    top_lr: float = 2e-5
    lr_decay: float = 0.5
    mlp_alpha: float = 1.0  # baseline-paper: L2 of the sklearn MLP


def _render_cache(cfg: Mapping[str, Any]) -> Path:
    if cfg.get("render_cache"):
        return Path(cfg["render_cache"])
    return cache_root() / "render"


def _device(ctx: RunContext | None) -> torch.device:
    """CUDA when the run asks for a GPU (``--accelerator gpu|cuda|auto``) and one is there, else the CPU."""
    gpu = ctx is not None and str(ctx.option("accelerator") or "cpu") in ("gpu", "cuda", "auto")
    return torch.device("cuda" if gpu and torch.cuda.is_available() else "cpu")


def backbone_from(source: Mapping[str, Any]) -> MuQBackbone:
    """The MuQ a checkpoint names: ``{"weights": DIR}`` (a local folder or cached hub id) or ``{"preset": ...}``."""
    if source.get("weights"):
        return muq_backbone(weights=str(source["weights"]))
    preset = source.get("preset")
    if preset not in ("tiny", "large"):
        raise ValueError(f"unknown MuQ preset {preset!r}")
    return muq_backbone(muq_large() if preset == "large" else muq_tiny())


def render_audio(segments: Sequence[Segment], cfg: Mapping[str, Any]) -> list[Segment]:
    """Segments with ``audio_path`` set (rendered once, then cache lookups); already-rendered ones pass."""
    from piano_data.render import render_segments

    todo = [s for s in segments if s.audio_path is None]
    if not todo:
        return list(segments)
    rendered = render_segments(todo, [cfg["soundfont"]], _render_cache(cfg), progress=False)
    done = {r.extra.get("base_key", r.key): r.audio_path for r in rendered}  # keys may carry '@soundfont'
    missing = [s.key for s in todo if s.key not in done]
    if missing:
        raise UsageError(f"{len(missing)} segments could not be rendered, e.g. {missing[0]}")
    return [s if s.audio_path is not None else replace(s, audio_path=done[s.key]) for s in segments]


class _UnfreezingModule(MultiTierModule):
    """The recipe's supervised module plus A3's callback (Lightning adds ``configure_callbacks`` to the
    Trainer)."""

    def configure_callbacks(self) -> list[Any]:
        schedule: UnfreezeSchedule = self.model.schedule  # type: ignore[assignment]
        return [GradualUnfreezing(schedule, attr="model.encoder.backbone")]


class AudioExperiment(Experiment):
    """Shared logic: rendering, backbone construction, training and prediction of an
    :class:`AudioRegressor`."""

    group: ClassVar[Group] = "audio"
    config_type = AudioConfig  # quick/full values come from the presets (presets/a1.yaml, ...)
    uses_lora: ClassVar[bool] = False

    # -- pieces ---------------------------------------------------------------------------------------------
    def check_backbone(self, ctx: RunContext) -> None:
        """Fail before any work when the weights cannot be found or a full run has none."""
        weights = ctx.option("muq_weights")
        if weights:
            resolve_weights(str(weights))
        elif self.config["muq"] == "auto" and self.config.get("size") == "full":
            raise UsageError(
                f"{self.id}: a full-size audio run needs the real MuQ weights: --muq-weights DIR "
                "(or --set muq=large for a random 329M model, --set muq=tiny for the test model)"
            )

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        self.check_backbone(ctx)

    def backbone(self, ctx: RunContext) -> MuQBackbone:
        self.check_backbone(ctx)
        weights = ctx.option("muq_weights")
        if weights:
            return muq_backbone(weights=str(weights))
        return muq_backbone(muq_large() if self.config["muq"] == "large" else muq_tiny())

    def top_layers(self, backbone: MuQBackbone) -> tuple[int, ...]:
        depth = backbone.config.encoder_depth
        return tuple(range(max(1, depth - 3), depth + 1))  # 9-12 on the large model, 1-2 on the tiny one

    def train_config(self, ctx: RunContext, fold: int, **changes: Any) -> TrainConfig:
        c = self.config
        base = TrainConfig(
            max_epochs=int(c["epochs"]),
            lr=float(c["lr"]),
            patience=int(c["patience"]),
            batch_size=int(c["batch_size"]),
            seed=ctx.seed + fold,
            progress_bar=False,
            **hardware_options(ctx.options),
            log_every_n_steps=5,
        )
        return base.with_(**changes)

    def subset(self, segs: Sequence[Segment], limit: int | None, seed: int) -> list[Segment]:
        """At most ``limit`` segments as same-group pairs (:func:`piano_data.tiers.pieces.pair_subset`)."""
        segs = list(segs)
        return [segs[i] for i in pair_subset([s.group for s in segs], limit, seed)]

    def build_model(self, backbone: MuQBackbone, ctx: RunContext, fold: int) -> AudioRegressor:
        return AudioRegressor(backbone, hidden=int(self.config["hidden"]), dropout=float(self.config["dropout"]))

    def objective(self) -> Any:
        """The tier objective (as S1-S3): T1 MSE + ``rank_weight`` x same-piece RankNet on
        ``pred / rank_temperature``, T2 ordinal ranking, T3 same-passage contrast."""
        c = self.config
        quality = QualityObjective(float(c["rank_weight"]), float(c["rank_temperature"]))
        return tier_objective(c, quality, float(c["rank_temperature"]))

    def module(self, model: AudioRegressor, cfg: TrainConfig) -> MultiTierModule:
        return MultiTierModule(model, cfg, self.objective())

    def recordings_items(self, seed: int) -> Any:
        """T2: competition recordings as training crops (their audio, no labels)."""

        def items(recordings: Sequence[CompetitionRecording]) -> AudioSet:
            segs = [
                Segment(r.key, Path(), r.piece, r.round, r.performer, r.piece, audio_path=r.audio_path, source="t2")
                for r in recordings
            ]
            return AudioSet(segs, self.config["crop_seconds"], train=True, seed=seed)

        return items

    # -- the experiment interface ---------------------------------------------------------------------
    def _fit_model(self, train: Sequence[Segment], ctx: RunContext, fold: int) -> AudioRegressor:
        """A fresh model (seeded by ``fold``) trained on ``train`` (its ``max_train`` subset, 15% of the groups
        held out for early stopping when there are 4 or more)."""
        c = self.config
        train = render_audio(self.subset(train, c["max_train"], ctx.seed + fold), c)
        groups = sorted({s.group for s in train})
        n_val = round(len(groups) * float(c["val_frac"])) if len(groups) >= 4 else 0
        val_groups = set(random.Random(ctx.seed + fold).sample(groups, n_val))
        tr = [s for s in train if s.group not in val_groups]
        va = [s for s in train if s.group in val_groups]
        with seeded(ctx.seed * 100 + fold):  # the head's initial weights must not depend on earlier runs
            model = self.build_model(self.backbone(ctx), ctx, fold)
        cfg = self.train_config(ctx, fold)
        data = AudioSet(tr, c["crop_seconds"], train=True, seed=ctx.seed + fold)
        loader = tier_loader(
            tr, data, collate, c, batch_size=cfg.batch_size, seed=ctx.seed, where=self.id,
            recordings_items=self.recordings_items(ctx.seed + fold),
        )  # fmt: skip
        val = (
            DataLoader(AudioSet(va, c["crop_seconds"], False, 0), batch_size=cfg.batch_size, collate_fn=collate)
            if va
            else None
        )
        workdir = ctx.workdir / f"{self.id}-fold{fold}"
        fit_module(self.module(model, cfg), loader, val, cfg, workdir, name=self.id)
        self.after_fit(model, workdir)
        return model

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        model = self._fit_model(train, ctx, fold)
        return self.predict_segments(model, render_audio(test, self.config), int(self.config["batch_size"]), ctx)

    # -- checkpoint: MuQ is rebuilt from its source (a weights folder or a random preset), not stored ----------
    def muq_source(self, ctx: RunContext) -> dict[str, Any]:
        """Which MuQ this run uses: ``{"weights": DIR}`` or ``{"preset": "tiny" | "large"}``."""
        weights = ctx.option("muq_weights")
        return (
            {"weights": str(weights)} if weights else {"preset": "large" if self.config["muq"] == "large" else "tiny"}
        )

    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        """Train once on ``train`` (as fold 0 of the cross-validation)."""
        self.check_backbone(ctx)
        self._fitted = self._fit_model(train, ctx, 0)
        self._muq = self.muq_source(ctx)

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        model = getattr(self, "_fitted", None)
        if model is None:
            raise RuntimeError(f"{self.id}: fit() or load() first")
        segs = render_audio(segments, self.config)
        return Prediction(self.predict_segments(model, segs, int(self.config["batch_size"]), ctx))

    def model_skeleton(self, backbone: MuQBackbone) -> AudioRegressor:
        """The trained model's architecture around ``backbone`` (its weights are loaded afterwards)."""
        return self.build_model(backbone, RunContext(workdir=Path()), 0)

    def save(self, directory: Path) -> None:
        """``model.safetensors`` + ``model.json``: every weight but the frozen MuQ ones, which ``load`` rebuilds
        from the recorded source (``{"muq": {"weights": DIR}}`` or a random preset) and checks by digest."""
        model: AudioRegressor | None = getattr(self, "_fitted", None)
        if model is None:
            raise RuntimeError(f"{self.id}: fit() first")
        frozen = [f"encoder.backbone.{n}" for n, p in model.backbone.named_parameters() if not p.requires_grad]
        save_module(directory, "model", model, {"muq": self._muq}, rebuilt=frozen)

    def load(self, directory: Path) -> None:
        def build(spec: dict[str, Any]) -> AudioRegressor:
            self._muq = dict(spec["muq"])
            return self.model_skeleton(backbone_from(self._muq))

        self._fitted, _ = load_module(directory, "model", build)

    def after_fit(self, model: AudioRegressor, workdir: Path) -> None:
        """Hook: save what this experiment hands on (adapters)."""

    @torch.no_grad()
    def predict_segments(
        self, model: AudioRegressor, segs: Sequence[Segment], batch_size: int, ctx: RunContext | None = None
    ) -> np.ndarray:
        device = _device(ctx)
        model.to(device).eval()
        loader = DataLoader(
            AudioSet(segs, self.config["eval_seconds"], False, 0), batch_size=batch_size, collate_fn=collate
        )
        preds = []
        for b in loader:
            b = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in b.items()}
            preds.append(model(b).float().cpu())
        model.cpu()
        return torch.cat(preds).clamp(0, 1).numpy()


class A1LoRA(AudioExperiment):
    id = "a1"
    description = "A1: MuQ + LoRA on the self-attention of layers 9-12, attention pooling, quality head (MSE + ranking)"
    uses_lora = True

    def build_model(self, backbone: MuQBackbone, ctx: RunContext, fold: int) -> AudioRegressor:
        lora = MuQLoRAConfig(
            rank=int(self.config["lora_rank"]),
            dropout=float(self.config["lora_dropout"]),
            layers=self.top_layers(backbone),
        )
        return super().build_model(apply_lora(backbone, lora), ctx, fold)

    def after_fit(self, model: AudioRegressor, workdir: Path) -> None:
        save_lora(model.backbone, workdir / "adapter")


class A2Staged(A1LoRA):
    id = "a2"
    description = (
        "A2: stage 1 LoRA self-supervised (cross-performer contrastive + clean/augmented invariance), "
        "stage 2 multi-task supervised from the saved stage-1 adapter"
    )

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        self.check_backbone(ctx)
        c = self.config
        segs = render_audio(self.subset(segments, c["max_pretrain"], ctx.seed), c)
        backbone = self.backbone(ctx)
        lora = MuQLoRAConfig(
            rank=int(c["lora_rank"]), dropout=float(c["lora_dropout"]), layers=self.top_layers(backbone)
        )
        model = AudioContrastiveModel(apply_lora(backbone, lora), invariance_weight=float(c["invariance_weight"]))
        cfg = self.train_config(ctx, 0, max_epochs=int(c["pretrain_epochs"]), lr=float(c["pretrain_lr"]))
        data = AudioSet(segs, c["crop_seconds"], train=True, seed=ctx.seed, augment=True)
        loader = DataLoader(
            data,
            batch_sampler=SamePieceBatchSampler([s.group for s in segs], cfg.batch_size, ctx.seed),
            collate_fn=collate,
        )
        fit_module(SelfSupervisedModule(model, cfg), loader, None, cfg, ctx.workdir / "a2-stage1", name="a2-stage1")
        self.stage1 = save_lora(backbone, ctx.workdir / "a2-stage1" / "adapter")  # the hand-off checkpoint
        log.info("a2: stage-1 adapter saved to %s", self.stage1)

    def build_model(self, backbone: MuQBackbone, ctx: RunContext, fold: int) -> AudioRegressor:
        stage1 = getattr(self, "stage1", None)
        if stage1 is None:
            raise UsageError("a2: stage 1 has not run (prepare() saves the adapter stage 2 starts from)")
        return AudioExperiment.build_model(self, load_lora(backbone, stage1), ctx, fold)

    def model_skeleton(self, backbone: MuQBackbone) -> AudioRegressor:
        return A1LoRA.build_model(self, backbone, RunContext(workdir=Path()), 0)  # adapters as stage 1 leaves them


class A3GradualUnfreeze(AudioExperiment):
    id = "a3"
    description = "A3: gradual unfreezing of MuQ layers 12->11->10->9 with discriminative learning rates"

    def build_model(self, backbone: MuQBackbone, ctx: RunContext, fold: int) -> AudioRegressor:
        c = self.config
        layers = tuple(reversed(self.top_layers(backbone)))
        every = int(c["unfreeze_every"])
        schedule = UnfreezeSchedule(
            layers=layers,
            at=tuple(every * (i + 1) for i in range(len(layers))),
            unit="epoch",
            top_lr=float(c["top_lr"]),
            decay=float(c["lr_decay"]),
        )
        backbone.freeze()
        return AudioRegressor(backbone, hidden=int(c["hidden"]), dropout=float(c["dropout"]), schedule=schedule)

    def module(self, model: AudioRegressor, cfg: TrainConfig) -> MultiTierModule:
        return _UnfreezingModule(model, cfg, self.objective())
