"""``PianoModel``: any subset of encoders (or their precomputed outputs) + a fusion + the heads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from piano_data.contracts import EncoderOutput
from torch import nn

from piano_fusion.config import DEFAULT_IN_DIMS, MODALITIES, PianoModelConfig
from piano_fusion.fusions import build_fusion
from piano_fusion.heads import DifficultyHead, QualityHead, RankingHead
from piano_fusion.pooling import ModalityEmbedder
from piano_fusion.validation import FusionInputError, check_modalities

__all__ = ["Mode", "PianoModel", "PianoOutput"]

Mode = Literal["audio", "symbolic", "fused", "score_conditioned"]


@dataclass(frozen=True)
class PianoOutput:
    """``quality [B, 19]`` in [0, 1], ``ranking [B, 19]`` scores, ``difficulty`` (``[B]`` or ``[B, L-1]``
    ordinal logits), ``z [B, K, z_dim]`` (after score conditioning), ``embedding [B, z_dim]`` (``z`` averaged
    over its slots: what contrastive and invariance losses use), each modality's pooled ``z`` in
    ``per_modality`` and the F3 ``gates [B, 19, M]`` (``None`` for other fusions)."""

    quality: torch.Tensor
    ranking: torch.Tensor
    difficulty: torch.Tensor
    z: torch.Tensor
    embedding: torch.Tensor
    per_modality: dict[str, torch.Tensor]
    gates: torch.Tensor | None = None


class PianoModel(nn.Module):
    """Encoders (optional) -> fusion over the performance modalities -> score conditioning -> heads.

    ``forward(inputs)`` takes a mapping from modality name to either a precomputed :class:`EncoderOutput` or
    the input of that modality's encoder (called as ``enc(x)``; ``enc(*x)`` for a tuple, ``enc(**x)`` for a
    dict). Keys that are not modalities (labels, ids) are ignored. With ``score_midi`` among the modalities
    the model is score-conditioned, ``f(z_audio, z_perf_midi, z_score_midi)``: the performance modalities
    are fused and the fused ``z`` is modulated by the pooled score embedding (FiLM,
    ``z * (1 + gamma) + beta``, initialised near the identity). Encoders start frozen (no gradients, eval
    mode); :meth:`unfreeze_encoders` opens them, and :meth:`param_groups` gives them their own very low
    learning rate.
    """

    def __init__(self, cfg: PianoModelConfig, encoders: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        mods = tuple(cfg.modalities)
        encoders = dict(encoders or {})
        unknown = [m for m in (*mods, *encoders) if m not in MODALITIES]
        if unknown:
            raise FusionInputError(f"unknown modalities {unknown}; choose from {list(MODALITIES)}")
        if len(set(mods)) != len(mods):
            raise FusionInputError(f"duplicate modalities: {list(mods)}")
        extra = [m for m in encoders if m not in mods]
        if extra:
            raise FusionInputError(f"encoders given for modalities not in the config: {extra}")
        self.cfg = cfg
        self.modalities = mods
        self.in_dims = self._resolve_dims(cfg, encoders)
        self.performance = tuple(m for m in mods if m != "score_midi")
        if not self.performance:
            raise FusionInputError("a PianoModel needs audio or perf_midi; score_midi alone says nothing about playing")
        self.encoders = nn.ModuleDict({m: e for m, e in encoders.items() if isinstance(e, nn.Module)})
        self._plain_encoders = {m: e for m, e in encoders.items() if not isinstance(e, nn.Module)}
        fc, hc = cfg.fusion, cfg.heads
        self.fusion = build_fusion(fc, self.performance, [self.in_dims[m] for m in self.performance])
        self.score_embed: ModalityEmbedder | None = None
        self.film: nn.Linear | None = None
        if "score_midi" in mods:
            self.score_embed = ModalityEmbedder(
                self.in_dims["score_midi"], fc.z_dim, fc.pool_hidden, fc.hidden, fc.dropout
            )
            self.film = nn.Linear(fc.z_dim, 2 * fc.z_dim)
            nn.init.normal_(self.film.weight, std=0.01)  # near-identity, yet gradients reach the score path
            nn.init.zeros_(self.film.bias)
        self.quality_head = QualityHead(fc.z_dim, hc.hidden, hc.dropout)
        self.ranking_head = RankingHead(fc.z_dim, hc.hidden, hc.dropout)
        self.difficulty_head = DifficultyHead(fc.z_dim, hc.hidden, hc.dropout, hc.difficulty, hc.n_difficulty_levels)
        self._frozen = True
        self.freeze_encoders()

    @staticmethod
    def _resolve_dims(cfg: PianoModelConfig, encoders: Mapping[str, Any]) -> dict[str, int]:
        if cfg.in_dims is not None and len(cfg.in_dims) != len(cfg.modalities):
            raise FusionInputError(f"{len(cfg.modalities)} modalities but {len(cfg.in_dims)} in_dims")
        dims: dict[str, int] = {}
        for i, m in enumerate(cfg.modalities):
            enc_dim = getattr(encoders[m], "output_dim", None) if m in encoders else None
            dims[m] = int(cfg.in_dims[i]) if cfg.in_dims is not None else int(enc_dim or DEFAULT_IN_DIMS[m])
            if enc_dim is not None and int(enc_dim) != dims[m]:
                raise FusionInputError(f"{m}: encoder output_dim {enc_dim} but the config says {dims[m]}")
        return dims

    @property
    def mode(self) -> Mode:
        """``audio``, ``symbolic``, ``fused`` or ``score_conditioned``."""
        if "score_midi" in self.modalities:
            return "score_conditioned"
        if len(self.performance) > 1:
            return "fused"
        return "audio" if self.performance == ("audio",) else "symbolic"

    # ---- encoders: freezing and learning rates -------------------------------------------------------------
    @property
    def encoders_frozen(self) -> bool:
        return self._frozen

    def freeze_encoders(self) -> None:
        """Stop gradients into the encoders and keep them in eval mode (dropout off)."""
        self._frozen = True
        for p in self.encoders.parameters():
            p.requires_grad_(False)
        if len(self.encoders):
            self.encoders.eval()

    def unfreeze_encoders(self) -> None:
        """Let gradients reach the encoders (tuned at ``cfg.encoder_lr``, see :meth:`param_groups`)."""
        self._frozen = False
        for p in self.encoders.parameters():
            p.requires_grad_(True)
        self.encoders.train(self.training)

    def train(self, mode: bool = True) -> PianoModel:
        super().train(mode)
        if self._frozen and len(self.encoders):
            self.encoders.eval()
        return self

    def param_groups(self, base_lr: float, weight_decay: float | None = None) -> list[dict[str, Any]]:
        """Optimizer parameter groups: fusion + heads at ``base_lr``; trainable encoder parameters (only after
        :meth:`unfreeze_encoders`) at ``cfg.encoder_lr`` (default 1e-6). Each group carries a ``name``."""
        enc_ids = {id(p) for p in self.encoders.parameters()}
        head = [p for p in self.parameters() if p.requires_grad and id(p) not in enc_ids]
        enc = [p for p in self.encoders.parameters() if p.requires_grad]
        groups: list[dict[str, Any]] = [{"name": "fusion_heads", "params": head, "lr": base_lr}]
        if enc:
            groups.append({"name": "encoders", "params": enc, "lr": self.cfg.encoder_lr})
        if weight_decay is not None:
            for g in groups:
                g["weight_decay"] = weight_decay
        return groups

    # ---- forward -------------------------------------------------------------------------------------------
    def encode(self, inputs: Mapping[str, Any]) -> dict[str, EncoderOutput]:
        """Each modality's :class:`EncoderOutput` (precomputed ones pass through, others are encoded)."""
        outs: dict[str, EncoderOutput] = {}
        for m in self.modalities:
            if m not in inputs:
                raise FusionInputError(f"missing input for modality {m!r} (model modalities: {list(self.modalities)})")
            x = inputs[m]
            if isinstance(x, EncoderOutput):
                outs[m] = x
                continue
            enc = self.encoders[m] if m in self.encoders else self._plain_encoders.get(m)
            if enc is None:
                raise FusionInputError(f"{m}: no encoder given, so the input must be a precomputed EncoderOutput")
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self._frozen):
                y = enc(*x) if isinstance(x, tuple) else enc(**x) if isinstance(x, Mapping) else enc(x)
            if not isinstance(y, EncoderOutput):
                raise FusionInputError(f"{m}: encoder returned {type(y).__name__}, not an EncoderOutput")
            outs[m] = y
        check_modalities(outs, self.modalities, [self.in_dims[m] for m in self.modalities])
        return outs

    def forward(self, inputs: Mapping[str, Any]) -> PianoOutput:
        outs = self.encode(inputs)
        fused = self.fusion({m: outs[m] for m in self.performance})
        z = fused.z
        per = dict(fused.per_modality)
        if self.score_embed is not None and self.film is not None:
            z_score = self.score_embed(outs["score_midi"], "score_midi")
            per["score_midi"] = z_score
            gamma, beta = self.film(z_score).unsqueeze(1).chunk(2, dim=-1)
            z = z * (1.0 + gamma) + beta
        return PianoOutput(
            quality=self.quality_head(z),
            ranking=self.ranking_head(z),
            difficulty=self.difficulty_head(z),
            z=z,
            embedding=z.mean(dim=1),
            per_modality=per,
            gates=fused.gates,
        )
