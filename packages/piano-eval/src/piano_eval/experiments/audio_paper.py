"""``baseline-paper``: frozen MuQ layers 9-12, mean pooled, a 2-layer scikit-learn MLP.

The features come from the same MuQ source as the audio experiments (:mod:`piano_eval.experiments.audio`);
a checkpoint stores the MLP as plain arrays (:mod:`piano_eval.model_arrays`) and names the MuQ, which ``load``
rebuilds and checks against a digest of the weights it was trained with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from piano_audio import load_audio
from piano_data.errors import PianoDataError
from piano_data.samples import Segment, stack_labels
from piano_data.weights import load_module, save_module
from piano_fusion import masked_mean

from piano_eval.experiments.audio import AudioExperiment, _device, _render_cache, backbone_from, render_audio
from piano_eval.experiments.base import Prediction, RunContext
from piano_eval.model_arrays import ArrayRegressor

log = logging.getLogger(__name__)


class PaperBaseline(AudioExperiment):
    id = "baseline-paper"
    group = "baseline"
    description = "Frozen MuQ layers 9-12, mean pooled, 2-layer MLP (the project's earlier best audio result)"

    _regressor: ArrayRegressor | None = None  # the fitted MLP (fit or load)

    def prepare(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        """Mean-pooled frozen features of every segment: whole segments go through the embedding cache
        (computed once across runs); crops (``eval_seconds``, quick size) are computed directly."""
        self.check_backbone(ctx)
        self._muq = self.muq_source(ctx)
        self._backbone = self.backbone(ctx)
        self.features: dict[str, np.ndarray] = {}
        self._extract(segments, ctx)

    def _extract(self, segments: Sequence[Segment], ctx: RunContext) -> None:
        segs = render_audio(segments, self.config)
        backbone = self._backbone.to(_device(ctx)).eval()
        seconds = self.config["eval_seconds"]
        if seconds is None:
            from piano_audio.features import extract_to_cache
            from piano_data.cache import EmbeddingCache

            cache = EmbeddingCache(_render_cache(self.config).parent / "embeddings")
            paths = [Path(s.audio_path) for s in segs]  # type: ignore[arg-type]
            keys, report = extract_to_cache(
                backbone,
                paths,
                cache,
                weights=self._muq.get("weights"),
                pooled=True,
                strict=True,
                progress=False,
            )
            log.info("baseline-paper: %d features computed, %d cached", report.computed, report.cached)
            for s, k in zip(segs, keys, strict=True):
                self.features[s.key] = np.asarray(cache.get(k), dtype=np.float32)  # type: ignore[arg-type]
            return
        n = int(seconds * 24_000)
        with torch.no_grad():
            for s in segs:
                wave = load_audio(s.audio_path, min_seconds=0.2)  # type: ignore[arg-type]
                start = max(0, (len(wave) - n) // 2)  # the centre crop, as the fine-tuned models predict
                out = backbone.encode(wave[start : start + n])
                self.features[s.key] = masked_mean(out.frames, out.mask)[0].cpu().numpy()

    def _mlp(self, seed: int) -> Any:
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            StandardScaler(),
            MLPRegressor(
                hidden_layer_sizes=(int(self.config["hidden"]),),
                alpha=float(self.config["mlp_alpha"]),
                max_iter=300,
                early_stopping=True,
                random_state=seed,
            ),
        )

    def fit_predict(self, train: Sequence[Segment], test: Sequence[Segment], ctx: RunContext, fold: int) -> np.ndarray:
        x = np.stack([self.features[s.key] for s in train])
        mlp = self._mlp(ctx.seed + fold).fit(x, stack_labels(list(train)))
        return np.clip(mlp.predict(np.stack([self.features[s.key] for s in test])), 0.0, 1.0)

    # -- checkpoint: the MLP as plain arrays (model_arrays), MuQ rebuilt from its recorded source --------------
    def fit(self, train: Sequence[Segment], ctx: RunContext) -> None:
        from piano_eval.model_arrays import from_pipeline

        x = np.stack([self.features[s.key] for s in train])
        self._regressor = from_pipeline(self._mlp(ctx.seed).fit(x, stack_labels(list(train))))

    def predict(self, segments: Sequence[Segment], ctx: RunContext) -> Prediction:
        if self._regressor is None:
            raise RuntimeError("baseline-paper: fit() or load() first")
        for s in segments:  # keys name windows, not contents: never reuse features of an earlier call
            self.features.pop(s.key, None)
        self._extract(segments, ctx)
        x = np.stack([self.features[s.key] for s in segments])
        return Prediction(np.clip(self._regressor.predict(x), 0.0, 1.0))

    def save(self, directory: Path) -> None:
        """``paper_mlp.npz|json`` (the MLP's arrays) + ``muq.safetensors|json`` (the MuQ source and a digest of
        its weights; only its buffers are stored)."""
        from piano_eval.model_arrays import save_models

        if self._regressor is None:
            raise RuntimeError("baseline-paper: fit() first")
        save_models(directory, "paper_mlp", [self._regressor])
        params = [n for n, _ in self._backbone.named_parameters()]
        save_module(directory, "muq", self._backbone, {"muq": self._muq}, rebuilt=params)

    def load(self, directory: Path) -> None:
        from piano_eval.model_arrays import load_models

        self._backbone, spec = load_module(directory, "muq", lambda spec: backbone_from(spec["muq"]))
        self._muq = dict(spec["muq"])
        models, _ = load_models(directory, "paper_mlp", self._backbone.output_dim)
        hidden = models[0].weights[0].shape[1] if len(models) == 1 and len(models[0].weights) == 2 else None
        if hidden != int(self.config["hidden"]):
            raise PianoDataError(
                directory / "paper_mlp.npz",
                f"MLP hidden width {hidden} does not match the config's {self.config['hidden']}",
            )
        self._regressor = models[0]
        self.features = {}
