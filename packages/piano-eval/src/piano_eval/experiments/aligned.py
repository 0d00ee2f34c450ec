"""``s4``: the aligned-note encoder (:mod:`piano_symbolic.s4`), pretrained on aligned corpora, fine-tuned per fold.

``prepare`` (label-free) aligns every segment to its score MIDI (cached), and pretrains S4 by masked deviation
prediction + the cross-performer contrast (:func:`piano_fusion.piece_contrast`) on the aligned PercePiano,
ASAP and GiantMIDI/MAESTRO corpus found under ``--data-root``; the pretrained encoder is cached under
``cache_dir/s4/<digest of the recipe>`` (safetensors + JSON), so folds and reruns reuse it.

``fit_predict`` trains ``piano_fusion.EncoderRegressor`` (attention pooling + quality head) over the S4 note
frames, plus one frame of the hand-crafted features when ``features`` is on, on the data tiers
(:func:`piano_eval.training.tier_loader`: MSE + same-piece RankNet, ``QualityObjective``, on T1; the
same-passage contrast on T3), early-stopping on the MSE of 15% of the training groups. ``finetune: top`` freezes the
pretrained body (its states are computed once per run) and trains its output projection, the features frame,
pooling and head; ``full`` fine-tunes everything. ``learned: false`` is the ablation without the S4 encoder.

Options of the second pass (all off by default; measured in ``benchmarks/symbolic.md``): ``pool_stats`` pools the
attentive mean and standard deviation of the frames (:class:`piano_fusion.AttentionPooling` ``stats``);
``raw_deviations`` appends each note's standardised raw deviations and status (``raw_context``: and score context)
to its frame, and with ``learned: false`` those raw note channels are the frames; ``features_at: pooled`` joins the
hand-crafted features after pooling (``EncoderRegressor`` ``side_dim``) instead of as one frame;
``weight_decay`` and ``head_dropout`` regularise fine-tuning. ``blend_features_mlp`` averages the prediction with
the baseline-features MLP ensemble (:mod:`piano_eval.experiments.aligned_blend`), the weight chosen on the
validation groups: the quick preset's learned model reads no hand-crafted feature itself and is blended instead.
``difference_weight`` adds the same-passage rating-difference term of ``QualityObjective``. ``blend_per_dim``
chooses one blend weight per rating dimension; ``val_slices`` gives each ensemble member its own validation
groups (disjoint slices), so the members train on different data and the blend weight is chosen on all of them.
``blend_mlps`` sets how many MLPs of different seeds the features half of the blend averages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.errors import PianoDataError, read_json
from piano_data.samples import Segment, stack_labels
from piano_data.weights import load_module, save_module

from piano_eval.errors import UsageError
from piano_eval.experiments.aligned_blend import Weight, is_unblended
from piano_eval.experiments.aligned_config import S4ExperimentConfig
from piano_eval.experiments.base import Experiment, Prediction, RunContext
from piano_eval.provenance import write_json_atomic

log = logging.getLogger(__name__)


#: Bump when the pretraining recipe changes in a way the config does not show (invalidates cached encoders).
RECIPE_VERSION = 1


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


class S4Experiment(Experiment):
    id = "s4"
    group = "symbolic"
    description = (
        "S4: aligned-note encoder (one token per score note with the performer's deviations), masked deviation "
        "+ cross-performer pretraining, fine-tuned with attention pooling and the quality head"
    )
    config_type = S4ExperimentConfig

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        c = self.config
        if not c["learned"] and not c["features"] and not c["raw_deviations"]:
            raise UsageError("experiment 's4': learned, features and raw_deviations are all off; nothing to train")
        if c["note_conv"] and not (c["learned"] or c["raw_deviations"]):
            raise UsageError("experiment 's4': note_conv needs note frames to convolve (learned or raw_deviations)")
        if (c["blend_split"] or c["blend_per_dim"]) and not c["blend_features_mlp"]:
            raise UsageError("experiment 's4': blend_split and blend_per_dim need blend_features_mlp")
        if c["blend_mlps"] < 1:
            raise UsageError(f"experiment 's4': blend_mlps must be at least 1, got {c['blend_mlps']}")
        if c["features"] and c["features_at"] == "pooled" and not (c["learned"] or c["raw_deviations"]):
            raise UsageError(
                "experiment 's4': features_at 'pooled' needs note frames to pool (learned or raw_deviations)"
            )
        self._encoder: Any = None
        self._tokens: dict[str, Any] = {}
        self._features: dict[str, np.ndarray] = {}
        self._states: dict[str, Any] = {}
        self.pretrain_info: dict[str, Any] = {}
        self._fitted: list[Any] = []
        self._feature_stats: tuple[np.ndarray, np.ndarray] | None = None
        self._raw_stats: tuple[np.ndarray, np.ndarray] | None = None
        self._n_features = 0
        self.last_history: dict[str, Any] = {}
        self._mlps: list[dict[str, np.ndarray]] = []
        # (between passages, within a passage): numbers, or one per dimension with blend_per_dim
        self._blend_weight: tuple[Weight, Weight] = (1.0, 1.0)
        self.blend_weights: list[list[Any]] = []

    # -- configuration ----------
    def _encoder_cfg(self) -> Any:
        from piano_symbolic.s4 import s4_full, s4_quick, s4_tiny

        presets = {"tiny": s4_tiny, "quick": s4_quick, "full": s4_full}
        name = str(self.config["preset"])
        if name not in presets:
            raise ValueError(f"s4: preset must be one of {sorted(presets)}, got {name!r}")
        return replace(presets[name](), **dict(self.config["encoder"] or {}))

    def _spec(self, seed: int) -> Any:
        from piano_symbolic.s4 import PretrainSpec

        c = self.config
        return PretrainSpec(
            window_bars=int(c["window_bars"]),
            windows_per_score=int(c["windows_per_score"]),
            steps=int(c["pretrain_steps"]),
            batch_size=int(c["pretrain_batch_size"]),
            lr=float(c["pretrain_lr"]),
            seed=seed,
        )

    # -- inputs ----------
    def _inputs(self, segments: Sequence[Segment]) -> None:
        """Tokens (aligned, cached) and hand-crafted features of every segment not seen yet."""
        from piano_data.midi import read_notes
        from piano_data.score import read_score
        from piano_symbolic.aligned import align_performance
        from piano_symbolic.features import extract_features
        from piano_symbolic.s4 import tokens_from_aligned

        scores: dict[Path, Any] = {}
        for s in segments:
            if s.key in self._tokens:
                continue
            if s.score_midi_path is None:
                raise PianoDataError(s.midi_path, "s4 reads the performance against its score: no score given")
            if s.score_midi_path not in scores:
                scores[s.score_midi_path] = read_score(s.score_midi_path)
            perf = read_notes(s.midi_path)
            aligned = align_performance(perf, scores[s.score_midi_path])
            self._tokens[s.key] = tokens_from_aligned(aligned)
            if self.config["features"] or self.config["blend_features_mlp"]:
                self._features[s.key] = extract_features(perf, aligned=aligned)

    # -- pretraining ----------
    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        self._inputs(segments)
        if not self.config["learned"]:
            return
        from piano_symbolic.s4 import load_s4

        c = self.config
        if c["checkpoint"]:
            encoder, extra = load_s4(Path(c["checkpoint"]))
            self._remember(encoder, {"checkpoint": str(c["checkpoint"]), **extra})
            return
        cfg, spec = self._encoder_cfg(), self._spec(ctx.seed)
        recipe = {
            "encoder": asdict(cfg),
            "spec": asdict(spec),
            "sources": sorted(c["corpus_sources"]),
            "max_per_score": c["corpus_max_per_score"],
            "data_root": str(ctx.data_root),
            "segments": _digest(sorted(s.key for s in segments)),
            "version": RECIPE_VERSION,
        }
        directory = Path(c["cache_dir"] or _default_cache()) / "s4" / _digest(recipe)
        if (directory / "encoder.json").is_file():
            encoder, extra = load_s4(directory)
            log.info("s4: pretrained encoder from cache %s", directory)
            self._remember(encoder, {"cache": str(directory), **extra})
            return
        encoder, report = self._pretrain(segments, ctx, cfg, spec, set(c["corpus_sources"]))
        from piano_symbolic.s4 import save_s4

        save_s4(directory, encoder, {"recipe": recipe, "report": report})
        self._remember(encoder, {"cache": str(directory), "report": report})

    def _pretrain(self, segments: Sequence[Segment], ctx: RunContext, cfg: Any, spec: Any, sources: set[str]) -> Any:
        from piano_fusion import piece_contrast
        from piano_symbolic.s4 import CorpusPair, build_windows, corpus_pairs, load_aligned_corpus, pretrain_s4

        items = [
            (CorpusPair(s.midi_path, s.score_midi_path, s.group, s.player, "percepiano"), self._tokens[s.key])
            for s in segments
            if s.score_midi_path is not None and "percepiano" in sources
        ]
        others = tuple(sorted(sources - {"percepiano"}))
        if others and ctx.data_root is not None:
            cap = self.config["corpus_max_per_score"]
            items += load_aligned_corpus(corpus_pairs(Path(ctx.data_root), others, None if cap is None else int(cap)))
        windows = build_windows(items, spec, cfg.max_notes)
        log.info("s4: pretraining on %d windows of %d aligned performances", len(windows), len(items))
        return pretrain_s4(cfg, windows, spec, piece_contrast, log=log.info)

    def _remember(self, encoder: Any, info: dict[str, Any]) -> None:
        self._encoder = encoder
        self.pretrain_info = info
        self._states = {}

    def _body_states(self, segments: Sequence[Segment]) -> None:
        """Frozen-body states of every segment not encoded yet (``finetune: top``)."""
        import torch
        from piano_symbolic.s4 import collate_tokens

        todo = [s for s in dict.fromkeys(s.key for s in segments) if s not in self._states]
        enc = self._encoder
        enc.eval()
        with torch.no_grad():
            for k in range(0, len(todo), 32):
                keys = todo[k : k + 32]
                batch = collate_tokens([self._tokens[key] for key in keys], enc.cfg.max_notes)
                h = enc.hidden(batch)
                mask = batch["mask"][:, : enc.cfg.max_notes]
                for i, key in enumerate(keys):
                    self._states[key] = h[i, mask[i]].clone()

    # -- fine-tuning ----------
    def _hand_features(self, segments: Sequence[Segment]) -> np.ndarray:
        """The hand-crafted features of ``segments`` ``[N, F]``; with ``passage_relative`` also minus their mean
        over the segments of the same passage among ``segments`` (``[N, 2F]``, as baseline-features)."""
        from piano_eval.experiments.features import passage_relative

        x = np.stack([self._features[s.key] for s in segments])
        return passage_relative(x, [s.group for s in segments]) if self.config["passage_relative"] else x

    def _feature_matrix(self, segments: Sequence[Segment]) -> np.ndarray:
        """What the model reads of the hand-crafted features: :meth:`_hand_features`, or ``[N, 0]`` without them."""
        return self._hand_features(segments) if self.config["features"] else np.zeros((len(segments), 0))

    def _items(self, segments: Sequence[Segment], labels: np.ndarray | None) -> list[Any]:
        mean, std = self._feature_stats if self._feature_stats is not None else (0.0, 1.0)
        feats = (self._feature_matrix(segments) - mean) / std
        out = []
        for i, s in enumerate(segments):
            x: Any = self._tokens[s.key]
            if self.config["finetune"] == "top" or not self.config["learned"]:
                x = (self._states.get(s.key), x)  # (frozen-body states or None, tokens)
            f = feats[i]
            y = labels[i] if labels is not None else np.zeros(19)
            out.append((x, np.clip(f, -6, 6), y, s.group))
        return out

    def _collate(self) -> Any:
        from piano_eval.experiments.aligned_model import note_collate

        return note_collate(self.config, int(self._encoder_cfg().max_notes))

    def _build(self, seed: int) -> Any:
        import copy

        from piano_data.rng import seeded
        from piano_fusion import EncoderRegressor

        from piano_eval.experiments.aligned_model import AlignedNoteModel, DeviationChannels, NoteConv, StateProjection

        c = self.config
        n_feat = self._n_features if c["features"] else 0
        side = n_feat if c["features_at"] == "pooled" else 0
        body: Any = None
        dim = int(self._encoder_cfg().output_dim)
        if c["learned"]:
            body = StateProjection(self._encoder.out) if c["finetune"] == "top" else copy.deepcopy(self._encoder)
            dim = int(body.output_dim)
        if c["raw_deviations"]:  # before training: placeholder statistics, which a checkpoint's buffers replace
            mean, std = self._raw_stats if self._raw_stats is not None else (None, None)
            body = DeviationChannels(body, mean, std, context=bool(c["raw_context"]))
            dim = int(body.output_dim)
        scale = float(c["encoder_lr_scale"]) if c["finetune"] == "full" else 1.0
        with seeded(seed):  # every initial weight from the member's seed, never the caller's generator
            if c["note_conv"]:
                body = NoteConv(body, int(c["note_conv"]), int(c["note_conv_kernel"]))
                dim = int(body.output_dim)
            return EncoderRegressor(
                AlignedNoteModel(body, dim, n_feat - side),
                hidden=int(c["head_hidden"]),
                dropout=float(c["head_dropout"]),
                encoder_lr_scale=scale,
                pool_stats=bool(c["pool_stats"]),
                side_dim=side,
            )

    def _train(self, train: Sequence[Segment], seed: int) -> list[Any]:
        from piano_data.rng import seeded
        from piano_fusion import QualityObjective

        from piano_eval.experiments.aligned_model import batch_collate, train_regressor
        from piano_eval.training import tier_loader, tier_objective

        c = self.config
        if c["learned"] and self._encoder is None:
            raise RuntimeError("s4: prepare() must run before training")
        self._inputs(train)
        if c["learned"] and c["finetune"] == "top":
            self._body_states(train)
        if c["features"]:
            x = self._feature_matrix(train)
            self._feature_stats, self._n_features = (x.mean(0), x.std(0) + 1e-6), x.shape[1]
        if c["raw_deviations"]:
            self._raw_stats = self._raw_statistics(train)
        n_members = max(1, int(c["ensemble"]))
        splits = self._validation_splits(train, seed, n_members if c["val_slices"] else 1)
        # each split's model inputs built once, for every member that trains on it
        split_items = [
            (self._items(tr, stack_labels(list(tr))), self._items(va, stack_labels(list(va)))) for tr, va in splits
        ]
        quality = QualityObjective(
            float(c["rank_weight"]), float(c["rank_temperature"]), difference_weight=float(c["difference_weight"])
        )
        objective = tier_objective(c, quality, float(c["rank_temperature"]))
        collate = batch_collate(self._collate())
        models = []
        for k in range(n_members):
            tr = splits[k % len(splits)][0]
            items, va_items = split_items[k % len(splits)]
            model = self._build(seed * 10 + k)
            batch_size = int(c["batch_size"])
            loader = tier_loader(tr, items, collate, c, batch_size=batch_size, seed=seed * 10 + k, where="s4")
            with seeded(seed * 10 + k):  # dropout draws: the same run for the same seed, whatever ran before
                self.last_history = train_regressor(
                    model,
                    loader,
                    va_items,
                    self._collate(),
                    epochs=int(c["finetune_epochs"]),
                    lr=float(c["finetune_lr"]),
                    patience=int(c["patience"]),
                    objective=objective,
                    weight_decay=float(c["weight_decay"]),
                )
            models.append(model)
        if c["blend_features_mlp"]:
            self._choose_blend(train, models, splits, seed)
        return models

    def _validation_splits(
        self, train: Sequence[Segment], seed: int, n: int
    ) -> list[tuple[list[Segment], list[Segment]]]:
        """``n`` (training, validation) splits of ``train``, each validating on ``val_frac`` of the training groups;
        the validation groups of different splits are disjoint while they fit."""
        rng = random.Random(seed)
        groups = sorted({s.group for s in train})
        rng.shuffle(groups)
        size = max(1, round(len(groups) * float(self.config["val_frac"])))
        out = []
        for k in range(n):
            val_groups = {groups[(k * size + i) % len(groups)] for i in range(size)}
            out.append(([s for s in train if s.group not in val_groups], [s for s in train if s.group in val_groups]))
        return out

    def _choose_blend(
        self,
        train: Sequence[Segment],
        models: Sequence[Any],
        splits: Sequence[tuple[list[Segment], list[Segment]]],
        seed: int,
    ) -> None:
        """The blend weight, chosen on the validation groups: the learned prediction there (of the members that
        early-stopped on them) against the MLPs fitted without them; then the MLPs refitted on every training
        segment (they need no early-stopping groups)."""
        from piano_eval.experiments.aligned_blend import choose_weights, fit_mlps, mlp_predict

        c = self.config
        seeds = [seed * 10 + k for k in range(int(c["blend_mlps"]))]
        learned, mlp, labels, groups = [], [], [], []
        for j, (tr, va) in enumerate(splits):
            members = [m for k, m in enumerate(models) if k % len(splits) == j]
            learned.append(self._predict(members, va, blend=False).mean(0))
            mlps = fit_mlps(self._hand_features(tr), stack_labels(list(tr)), seeds)
            mlp.append(mlp_predict(mlps, self._hand_features(va)))
            labels.append(stack_labels(list(va)))
            groups += [s.group for s in va]
        self._blend_weight = choose_weights(
            np.concatenate(learned),
            np.concatenate(mlp),
            np.concatenate(labels),
            groups,
            bool(c["blend_split"]),
            bool(c["blend_per_dim"]),
        )
        self.blend_weights.append([np.asarray(w).tolist() for w in self._blend_weight])
        self._mlps = fit_mlps(self._hand_features(train), stack_labels(list(train)), seeds)

    def _raw_statistics(self, segments: Sequence[Segment]) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std (+1e-6) of the raw note channels over every note of ``segments``."""
        import torch

        from piano_eval.experiments.aligned_model import deviation_channels

        max_notes = int(self._encoder_cfg().max_notes)
        toks = [self._tokens[s.key].slice(0, max_notes) for s in segments]
        dev = torch.from_numpy(np.concatenate([t.deviation for t in toks]))
        status = torch.from_numpy(np.concatenate([t.status for t in toks]))
        context = torch.from_numpy(np.concatenate([t.context for t in toks])) if self.config["raw_context"] else None
        raw = deviation_channels(dev, status, context).numpy().astype(np.float64)
        return raw.mean(0), raw.std(0) + 1e-6

    def _predict(self, models: Sequence[Any], segments: Sequence[Segment], blend: bool = True) -> np.ndarray:
        """``[members, N, 19]`` predictions; with ``blend`` (and fitted MLPs) blended with the features MLP."""
        from piano_eval.experiments.aligned_model import predict_items

        self._inputs(segments)
        if self.config["learned"] and self.config["finetune"] == "top":
            self._body_states(segments)
        items = self._items(segments, None)
        preds = np.stack([predict_items(m, items, self._collate()) for m in models])
        if blend and self._mlps and not is_unblended(self._blend_weight):
            from piano_eval.experiments.aligned_blend import blend as blend_predictions
            from piano_eval.experiments.aligned_blend import mlp_predict

            mlp = mlp_predict(self._mlps, self._hand_features(segments))
            preds = blend_predictions(preds, mlp, self._blend_weight, [s.group for s in segments])
        return preds

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        models = self._train(train, ctx.seed * 100 + fold)
        return np.clip(self._predict(models, test).mean(0), 0.0, 1.0)

    # -- checkpoint ----------
    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        self._fitted = self._train(train, ctx.seed * 100)

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        """Mean over the ensemble; confidence ``exp(-std / 0.05)`` of the members' spread (1 for one model)."""
        if not self._fitted:
            raise RuntimeError("s4: fit() or load() first")
        for s in segments:  # keys name windows, not contents: never reuse inputs of an earlier call
            for cache in (self._tokens, self._features, self._states):
                cache.pop(s.key, None)
        preds = self._predict(self._fitted, segments)
        values = np.clip(preds.mean(0), 0.0, 1.0)
        confidence = np.exp(-preds.std(0) / 0.05) if len(preds) > 1 else np.ones_like(values)
        return Prediction(values, confidence)

    def save(self, directory: Path) -> None:
        """``s4_encoder/`` (pretrained encoder), ``s4_model{k}.safetensors|json`` (each ensemble member, via
        :func:`piano_data.weights.save_module`), ``s4_mlp{k}.safetensors`` (blend MLPs) and ``s4_model.json``."""
        from piano_symbolic.s4 import save_s4
        from safetensors.numpy import save_file as save_arrays

        if not self._fitted:
            raise RuntimeError("s4: fit() first")
        if self._encoder is not None:
            save_s4(
                directory / "s4_encoder", self._encoder, {k: v for k, v in self.pretrain_info.items() if k != "report"}
            )
        for k, model in enumerate(self._fitted):
            save_module(directory, f"s4_model{k}", model, {"n_features": self._n_features})
        for k, mlp in enumerate(self._mlps):
            save_arrays({n: np.ascontiguousarray(a) for n, a in mlp.items()}, str(directory / f"s4_mlp{k}.safetensors"))
        meta: dict[str, Any] = {
            "n_models": len(self._fitted),
            "features": None,
            "n_mlps": len(self._mlps),
            "blend_weight": np.asarray(self._blend_weight[0]).tolist(),
            "blend_weight_within": np.asarray(self._blend_weight[1]).tolist(),
        }
        if self._feature_stats is not None:
            meta["features"] = {"mean": self._feature_stats[0].tolist(), "std": self._feature_stats[1].tolist()}
        write_json_atomic(directory / "s4_model.json", meta)

    def load(self, directory: Path) -> None:
        from piano_symbolic.s4 import load_s4
        from safetensors.numpy import load_file as load_arrays

        meta_path = directory / "s4_model.json"
        meta = read_json(meta_path)
        if not isinstance(meta, dict) or not isinstance(meta.get("n_models"), int):
            raise PianoDataError(meta_path, "not an s4 checkpoint manifest")
        if self.config["learned"]:
            self._encoder, _ = load_s4(directory / "s4_encoder")
        if meta.get("features"):
            stats = meta["features"]
            self._feature_stats = (np.asarray(stats["mean"]), np.asarray(stats["std"]))
            self._n_features = len(stats["mean"])

        def build(spec: dict[str, Any]) -> Any:
            self._n_features = int(spec["n_features"])
            return self._build(0)

        self._fitted = [load_module(directory, f"s4_model{k}", build)[0] for k in range(meta["n_models"])]
        self._mlps = [load_arrays(str(directory / f"s4_mlp{k}.safetensors")) for k in range(int(meta.get("n_mlps", 0)))]
        between = _weight(meta.get("blend_weight", 1.0))
        self._blend_weight = (between, _weight(meta.get("blend_weight_within", between)))

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        if self._encoder is not None:
            d["encoder_config"] = asdict(self._encoder.cfg)
            d["encoder_parameters"] = int(sum(p.numel() for p in self._encoder.parameters()))
        d["pretraining"] = {k: v for k, v in self.pretrain_info.items() if k != "recipe"}
        if self.blend_weights:
            d["blend_weights"] = self.blend_weights
        return d


def _weight(value: Any) -> Weight:
    """A blend weight from a checkpoint manifest: a number, or a list of one per dimension."""
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)


def _default_cache() -> Path:
    from piano_data.paths import cache_root

    return cache_root()
