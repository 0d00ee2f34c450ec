"""``s1``, ``s2``, ``s3``: a symbolic encoder pretrained on the MIDI corpus, fine-tuned per fold.

``prepare`` (label-free) pretrains the encoder self-supervised on the corpus of
:func:`piano_symbolic.corpus.build_corpus` (the run's PercePiano segments plus the ASAP, GiantMIDI and MAESTRO
MIDI found under ``--data-root``) through :class:`~piano_eval.training.SelfSupervisedModule`, with the
cross-performer contrastive term on same-piece batches. The checkpoint is cached under
``cache_dir/<id>/<digest of the recipe>`` (default ``$PIANO_EVAL_CACHE`` or ``~/.cache/piano-eval``),
so folds and reruns reuse it; ``checkpoint`` points at an existing one instead.

``fit_predict`` starts every fold from the pretrained weights and fine-tunes encoder + attention pooling + a
19-dim quality head (``piano_fusion``) on the data tiers (:func:`~piano_eval.training.tier_loader`: MSE plus a
RankNet loss on same-piece pairs of T1, the same-passage contrast of T3; no T2: it reads MIDI) through
:class:`~piano_eval.training.MultiTierModule`, early-stopping on the MSE of a held-out 15% of the training
groups.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from piano_data.errors import PianoDataError
from piano_data.midi import read_notes
from piano_data.paths import cache_root
from piano_data.progress import progress_disabled
from piano_data.rng import seeded
from piano_data.samples import Segment, stack_labels
from piano_data.tiers.pieces import SamePieceBatchSampler
from piano_data.weights import load_module, save_module
from piano_fusion import EncoderRegressor, QualityObjective, piece_contrast
from piano_symbolic.checkpoint import WEIGHTS_FILE, load_encoder_checkpoint, save_encoder_checkpoint
from piano_symbolic.corpus import CorpusSpec, build_corpus, load_window
from piano_symbolic.encoders import PRESETS, SymbolicBundle, build_encoder, preset_config
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment, Prediction, RunContext
from piano_eval.experiments.config import TierKeys
from piano_eval.experiments.symbolic_parts import (
    ProjectedStates,
    collate_labelled,
    collate_states,
    collate_with_groups,
    count,
)
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
class SymbolicConfig(TierKeys):
    """Preset keys of ``s1``-``s3`` (checked when the experiment is built)."""

    preset: Literal["tiny", "quick", "small", "base"] = "quick"  # piano_symbolic preset
    encoder: dict[str, Any] = field(default_factory=dict)  # overrides of the preset's config fields
    corpus_sources: list[Literal["percepiano", "asap", "giantmidi", "maestro"]] = field(
        default_factory=lambda: ["percepiano", "asap", "giantmidi", "maestro"]
    )
    corpus_max_files: int | None = 40  # per long-form source
    corpus_max_windows_per_file: int | None = 6
    window_s: float = 15.0
    pretrain_epochs: int = 2
    pretrain_max_steps: int = -1
    pretrain_lr: float = 1e-3
    pretrain_batch_size: int = 16
    finetune_epochs: int = 12
    finetune_lr: float = 5e-4
    encoder_lr_scale: float = 0.3  # encoder lr = finetune_lr * scale (the head gets finetune_lr)
    # "full": the whole encoder; "top": frozen body (states cached once), output projection + head
    finetune: Literal["full", "top"] = "full"
    batch_size: int = 16
    patience: int = 4
    # 0.1 pulled piece4 R^2 down to 0.08-0.16 at the same pairwise (benchmarks/symbolic.md, third pass):
    # 0.01 gives s1 0.224, s2 0.233, s3 0.268
    rank_weight: float = 0.01
    # RankNet scores are predictions / rank_temperature: at 0.02 a pair's logit moves 50x faster than its predictions
    rank_temperature: float = 0.02
    monitor: Literal["val_mse", "val_r2"] = "val_mse"  # early stopping / best checkpoint: min mse or max r2
    val_frac: float = 0.15
    head_hidden: int = 128
    cache_dir: str | None = None
    checkpoint: str | None = None  # a saved piano_symbolic checkpoint to start from instead of pretraining


#: Part of the pretraining recipe digest: 2 = the piece contrast of piano_fusion (anchors need a negative).
PIECE_CONTRAST_VERSION = 2


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


class SymbolicExperiment(Experiment):
    """Shared logic of ``s1``/``s2``/``s3``; subclasses set :attr:`kind`."""

    group = "symbolic"
    kind: ClassVar[str] = "s1"
    config_type = SymbolicConfig

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        if self.config["preset"] not in PRESETS[self.kind]:
            raise UsageError(
                f"experiment {self.id!r}: preset must be one of {', '.join(PRESETS[self.kind])}, "
                f"got {self.config['preset']!r}"
            )
        self._state: dict[str, torch.Tensor] | None = None
        self._cfg: Any = None
        self._bundle: SymbolicBundle | None = None
        self.pretrain_info: dict[str, Any] = {}
        self._states: dict[str, torch.Tensor] = {}
        self._fitted: tuple[EncoderRegressor, SymbolicBundle] | None = None

    # -- configuration ----------
    def _encoder_cfg(self) -> Any:
        cfg = preset_config(self.kind, str(self.config["preset"]))  # type: ignore[arg-type]
        return replace(cfg, **dict(self.config["encoder"] or {}))

    def _train_cfg(self, ctx: RunContext, **kw: Any) -> TrainConfig:
        return TrainConfig(seed=ctx.seed, progress_bar=False, **hardware_options(ctx.options), **kw)

    def _cache_root(self) -> Path:
        return Path(self.config["cache_dir"] or cache_root()) / self.id

    # -- pretraining ----------
    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        c = self.config
        if c["checkpoint"]:
            bundle, extra = load_encoder_checkpoint(Path(c["checkpoint"]))
            self._remember(bundle, {"checkpoint": str(c["checkpoint"]), **extra})
            return
        cfg = self._encoder_cfg()
        spec = CorpusSpec(
            sources=tuple(c["corpus_sources"]),
            window_s=float(c["window_s"]),
            max_files=c["corpus_max_files"],
            max_windows_per_file=c["corpus_max_windows_per_file"],
            seed=ctx.seed,
        )
        recipe = {
            "kind": self.kind,
            "encoder": asdict(cfg),
            "corpus": asdict(spec),
            "data_root": str(ctx.data_root),
            "segments": _digest(sorted(s.key for s in segments)),
            "train": {k: c[k] for k in ("pretrain_epochs", "pretrain_max_steps", "pretrain_lr", "pretrain_batch_size")},
            "seed": ctx.seed,
            "piece_contrast": PIECE_CONTRAST_VERSION,
        }
        ckpt = self._cache_root() / _digest(recipe)
        if (ckpt / WEIGHTS_FILE).is_file():
            bundle, extra = load_encoder_checkpoint(ckpt)
            log.info("%s: pretrained weights from cache %s", self.id, ckpt)
            self._remember(bundle, {"cache": str(ckpt), **extra})
            return
        with seeded(ctx.seed):
            bundle = build_encoder(self.kind, cfg)  # type: ignore[arg-type]
        windows = build_corpus(ctx.data_root, spec, segments)
        names = sorted({w.group for w in windows if w.group is not None})
        gid = {g: i for i, g in enumerate(names)}
        items = [
            (bundle.featurizer(load_window(w)), gid.get(w.group, -1) if w.group is not None else -1)
            for w in tqdm(windows, desc=f"{self.id} corpus", mininterval=5, disable=progress_disabled())
        ]
        collate = collate_with_groups(bundle)
        tcfg = self._train_cfg(
            ctx,
            max_epochs=int(c["pretrain_epochs"]),
            max_steps=int(c["pretrain_max_steps"]),
            lr=float(c["pretrain_lr"]),
            batch_size=int(c["pretrain_batch_size"]),
        )
        sampler = SamePieceBatchSampler([w.group for w in windows], tcfg.batch_size, ctx.seed)
        loader: DataLoader[Any] = DataLoader(items, batch_sampler=sampler, collate_fn=collate)  # type: ignore[arg-type]
        log.info("%s: pretraining on %d windows (%d same-piece groups)", self.id, len(items), len(names))
        if tcfg.max_epochs > 0:
            fit_module(
                SelfSupervisedModule(bundle.model, tcfg, loss_kwargs={"piece_contrast": piece_contrast}),
                loader,
                None,
                tcfg,
                ctx.workdir / f"{self.id}-pretrain",
            )
        info = {"windows": len(items), "groups": len(names), "sources": count(w.source for w in windows)}
        save_encoder_checkpoint(ckpt, bundle, extra={"recipe": recipe, **info})
        self._remember(bundle, {"cache": str(ckpt), **info})

    def _remember(self, bundle: SymbolicBundle, info: dict[str, Any]) -> None:
        self._bundle = bundle
        self._cfg = bundle.model.cfg  # type: ignore[attr-defined]
        self._state = {k: v.detach().clone() for k, v in bundle.model.state_dict().items()}
        self.pretrain_info = info
        self._states = {}

    def _body_states(self, segments: Sequence[Segment]) -> None:
        """Frozen-body states ``[T, d]`` (float16) of every segment not cached yet (``finetune: top``)."""
        todo = sorted({s.key: s for s in segments if s.key not in self._states}.values(), key=lambda s: s.key)
        if not todo:
            return
        assert self._bundle is not None
        model, fz = self._bundle.model, self._bundle.featurizer
        model.eval()
        feats = [fz(read_notes(s.midi_path)) for s in todo]
        with torch.no_grad():
            batches = range(0, len(todo), 16)
            for k in tqdm(batches, desc=f"{self.id} encode", mininterval=10, disable=progress_disabled()):
                h, mask = model.body(fz.collate(feats[k : k + 16]))  # type: ignore[operator]
                for i, s in enumerate(todo[k : k + 16]):
                    self._states[s.key] = h[i, mask[i]].to(torch.float16)

    # -- fine-tuning ----------
    def _new_model(self, seed: int) -> tuple[EncoderRegressor, SymbolicBundle]:
        """The pretrained encoder (a fresh copy) under a new pooling + quality head seeded with ``seed``."""
        if self._state is None:
            raise RuntimeError(f"{self.id}: prepare() must run before fit_predict()")
        bundle = build_encoder(self.kind, self._cfg, self._bundle.tokenizer if self._bundle else None)  # type: ignore[arg-type]
        bundle.model.load_state_dict(self._state)
        top = self.config["finetune"] == "top"
        encoder: nn.Module = ProjectedStates(bundle.model.out) if top else bundle.model  # type: ignore[arg-type]
        scale = 1.0 if top else float(self.config["encoder_lr_scale"])
        with seeded(seed):  # the head's initial weights must not depend on earlier runs
            model = EncoderRegressor(encoder, hidden=int(self.config["head_hidden"]), encoder_lr_scale=scale)
        return model, bundle

    def _inputs(self, bundle: SymbolicBundle, segments: Sequence[Segment]) -> tuple[dict[str, Any], Any]:
        """The model inputs of ``segments`` by key, and the function that collates them."""
        if self.config["finetune"] == "top":
            self._body_states(segments)
            return {s.key: self._states[s.key] for s in segments}, collate_states
        return {s.key: bundle.featurizer(read_notes(s.midi_path)) for s in segments}, bundle.featurizer.collate

    def _train(
        self, model: EncoderRegressor, train: Sequence[Segment], inputs: tuple[dict[str, Any], Any], ctx: RunContext,
        fold: int,
    ) -> None:  # fmt: skip
        """Fine-tune ``model`` on ``train`` (15% of its groups for early stopping), seeded by ``fold``."""
        c = self.config
        feats, collate_items = inputs
        rng = random.Random(ctx.seed * 100 + fold)
        groups = sorted({s.group for s in train})
        rng.shuffle(groups)
        val_groups = set(groups[: max(1, round(len(groups) * float(c["val_frac"])))])
        tr = [s for s in train if s.group not in val_groups]
        va = [s for s in train if s.group in val_groups]
        collate = collate_labelled(collate_items)

        def data(segs: Sequence[Segment]) -> list[tuple[Any, np.ndarray, str]]:
            labels = stack_labels(list(segs)).astype(np.float32)
            return [(feats[s.key], labels[i], s.group) for i, s in enumerate(segs)]

        tcfg = self._train_cfg(
            ctx,
            max_epochs=int(c["finetune_epochs"]),
            lr=float(c["finetune_lr"]),
            batch_size=int(c["batch_size"]),
            patience=int(c["patience"]),
            save_top_k=1,
            warmup_frac=0.1,
        )
        batch, seed = tcfg.batch_size, ctx.seed + fold
        train_loader = tier_loader(tr, data(tr), collate, c, batch_size=batch, seed=seed, where=self.id)
        val_loader: DataLoader[Any] = DataLoader(data(va), batch_size=64, collate_fn=collate)  # type: ignore[arg-type]
        quality = QualityObjective(float(c["rank_weight"]), float(c["rank_temperature"]))
        module = MultiTierModule(model, tcfg, tier_objective(c, quality, float(c["rank_temperature"])))
        monitor = str(c["monitor"])
        workdir = ctx.workdir / f"{self.id}-fold{fold}"
        mode: Literal["min", "max"] = "min" if monitor == "val_mse" else "max"
        name = f"fold{fold}"
        fit_module(module, train_loader, val_loader, tcfg, workdir, monitor=monitor, mode=mode, name=name)

    @staticmethod
    def _predict(
        model: EncoderRegressor, segments: Sequence[Segment], inputs: tuple[dict[str, Any], Any]
    ) -> np.ndarray:
        feats, collate_items = inputs
        model.eval()
        preds = []
        with torch.no_grad():
            for k in range(0, len(segments), 32):
                chunk = segments[k : k + 32]
                preds.append(model(collate_items([feats[s.key] for s in chunk])).float().numpy())
        return np.clip(np.concatenate(preds), 0.0, 1.0)

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        model, bundle = self._new_model(ctx.seed * 100 + fold)
        inputs = self._inputs(bundle, [*train, *test])
        self._train(model, train, inputs, ctx, fold)
        return self._predict(model, test, inputs)

    # -- checkpoint ----------
    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        """Fine-tune once on every segment of ``train`` (as fold 0 of the cross-validation)."""
        model, bundle = self._new_model(ctx.seed * 100)
        self._train(model, train, self._inputs(bundle, train), ctx, 0)
        self._fitted = (model, bundle)

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        if self._fitted is None:
            raise RuntimeError(f"{self.id}: fit() or load() first")
        model, bundle = self._fitted
        for s in segments:  # keys name windows, not contents: never reuse states of an earlier call
            self._states.pop(s.key, None)
        return Prediction(self._predict(model, segments, self._inputs(bundle, segments)))

    def save(self, directory: Path) -> None:
        """``encoder/`` (the piano_symbolic checkpoint: config, tokenizer, weights) + ``regressor.safetensors``
        and ``regressor.json`` (encoder + pooling + head, rebuilt from the manifest's config)."""
        if self._fitted is None:
            raise RuntimeError(f"{self.id}: fit() first")
        model, bundle = self._fitted
        info = {k: v for k, v in self.pretrain_info.items() if k != "recipe"}
        save_encoder_checkpoint(Path(directory) / "encoder", bundle, extra=info)
        save_module(Path(directory), "regressor", model, {"kind": self.kind, "finetune": self.config["finetune"]})

    def load(self, directory: Path) -> None:
        bundle, info = load_encoder_checkpoint(Path(directory) / "encoder")
        if bundle.kind != self.kind:
            raise PianoDataError(Path(directory) / "encoder", f"holds a {bundle.kind} encoder, not {self.kind}")
        self._remember(bundle, info)

        def build(spec: dict[str, Any]) -> EncoderRegressor:
            if spec.get("finetune") != self.config["finetune"]:
                raise ValueError(
                    f"trained with finetune {spec.get('finetune')!r}, config says {self.config['finetune']!r}"
                )
            return self._new_model(0)[0]

        model, _ = load_module(Path(directory), "regressor", build)
        self._fitted = (model, bundle)  # its body gives the states (top), its featurizer the inputs (full)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        if self._cfg is not None:
            d["encoder_config"] = asdict(self._cfg)
            d["encoder_parameters"] = int(sum(v.numel() for v in (self._state or {}).values()))
        d["pretraining"] = {k: v for k, v in self.pretrain_info.items() if k != "recipe"}
        return d


class S1Experiment(SymbolicExperiment):
    id = "s1"
    kind = "s1"
    description = "S1: Transformer over REMI tokens, BERT masked-token + cross-performer pretraining, fine-tuned"


class S2Experiment(SymbolicExperiment):
    id = "s2"
    kind = "s2"
    description = "S2: GATv2 over the note graph, link + masked velocity/timing pretraining, fine-tuned"


class S3Experiment(SymbolicExperiment):
    id = "s3"
    kind = "s3"
    description = "S3: 1D-CNN + Transformer over MIDI curves, wav2vec 2.0-style pretraining, fine-tuned"
