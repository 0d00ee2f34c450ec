"""MuQ backbone configuration: one frozen dataclass and the named presets.

The large preset mirrors the published ``OpenMuQ/MuQ-large-msd-iter`` architecture (a 2-layer conv front end
on a
128-band mel spectrogram at 100 frames/s, subsampled to 25 frames/s, then a 12-layer, 1024-wide Conformer with
rotary position embeddings). Hidden state ``i`` is the output of Conformer layer ``i`` (1-based; layer 12's
output
passes through the encoder's final layer norm); hidden state 0 is the conv front end's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["DEFAULT_HUB_ID", "MuQBackboneConfig", "muq_large", "muq_tiny"]

#: The hub id of the published weights (used only when the caller asks for it by name).
DEFAULT_HUB_ID = "OpenMuQ/MuQ-large-msd-iter"

#: Mel-spectrogram statistics of the published model (MuQ recipe), used to normalise its input.
_MEL_MEAN = 6.768444971712967
_MEL_STD = 18.417922652295623


@dataclass(frozen=True)
class MuQBackboneConfig:
    """Architecture plus extraction settings of a MuQ backbone.

    ``layers`` are the 1-based Conformer layers whose hidden states are concatenated, so the output width is
    ``len(layers) * encoder_dim``. ``chunk_seconds`` bounds the audio seen by one forward pass (long audio
    is cut
    into chunks, encoded one by one and the frames concatenated); ``max_seconds`` is a guard against feeding a
    whole concert by mistake. ``dropout`` is the Conformer's dropout (the published model trained with 0.1).
    """

    encoder_dim: int = 1024
    encoder_depth: int = 12
    n_heads: int = 16
    ffn_dim: int = 4096
    conv_dim: int = 512
    conv_kernel: int = 31
    n_mels: int = 128
    codebook_size: int = 4096
    codebook_dim: int = 16
    position_embeddings: Literal["rotary", "relative"] = "rotary"
    dropout: float = 0.1
    layers: tuple[int, ...] = (9, 10, 11, 12)
    chunk_seconds: float = 30.0
    min_seconds: float = 0.5
    max_seconds: float = 3600.0
    mel_mean: float = _MEL_MEAN
    mel_std: float = _MEL_STD
    extra_w2v2: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.encoder_dim % self.n_heads:
            raise ValueError(f"encoder_dim {self.encoder_dim} is not divisible by n_heads {self.n_heads}")
        if self.n_mels != 128:
            raise ValueError(f"n_mels must be 128 (MuQ's mel front end is fixed at 128 bands), got {self.n_mels}")
        if not self.layers:
            raise ValueError("layers must name at least one Conformer layer")
        bad = [i for i in self.layers if not 1 <= i <= self.encoder_depth]
        if bad:
            raise ValueError(f"layers {bad} are outside 1..{self.encoder_depth} (encoder_depth)")
        if len(set(self.layers)) != len(self.layers):
            raise ValueError(f"layers must be distinct, got {self.layers}")
        if self.chunk_seconds < 1.0:
            raise ValueError(f"chunk_seconds must be >= 1 s, got {self.chunk_seconds}")

    @property
    def output_dim(self) -> int:
        """Width of the concatenated hidden states."""
        return self.encoder_dim * len(self.layers)

    def with_layers(self, layers: tuple[int, ...]) -> MuQBackboneConfig:
        return replace(self, layers=tuple(layers))

    def w2v2_config(self) -> dict[str, Any]:
        """The ``w2v2_config`` dict MuQ hands to ``Wav2Vec2ConformerEncoder``."""
        cfg: dict[str, Any] = {
            "hidden_size": self.encoder_dim,
            "num_hidden_layers": self.encoder_depth,
            "num_attention_heads": self.n_heads,
            "intermediate_size": self.ffn_dim,
            "hidden_act": "swish",
            "hidden_dropout": self.dropout,
            "activation_dropout": self.dropout,
            "attention_dropout": self.dropout,
            "conformer_conv_dropout": self.dropout,
            "layerdrop": 0.0,
            "layer_norm_eps": 1e-5,
            "conv_depthwise_kernel_size": self.conv_kernel,
            "position_embeddings_type": self.position_embeddings,
            "rotary_embedding_base": 10000,
            "max_source_positions": 5000,
            "num_conv_pos_embeddings": 128,
            "num_conv_pos_embedding_groups": 16,
            "feat_extract_activation": "gelu",
            "initializer_range": 0.02,
        }
        cfg.update(self.extra_w2v2)
        return cfg

    def muq_config(self) -> dict[str, Any]:
        """Keyword arguments of ``muq.MuQConfig`` (the same dict the hub's ``config.json`` holds)."""
        return {
            "label_rate": 25,
            "num_codebooks": 1,
            "codebook_dim": self.codebook_dim,
            "codebook_size": self.codebook_size,
            "features": ["melspec_2048"],
            "hop_length": 240,
            "n_mels": self.n_mels,
            "conv_dim": self.conv_dim,
            "encoder_dim": self.encoder_dim,
            "encoder_depth": self.encoder_depth,
            "mask_hop": 0.4,
            "mask_prob": 0.6,
            "is_flash": False,
            "stat": {"melspec_2048_mean": self.mel_mean, "melspec_2048_std": self.mel_std},
            "w2v2_config": self.w2v2_config(),
        }

    @classmethod
    def from_muq_config(cls, cfg: dict[str, Any], **overrides: Any) -> MuQBackboneConfig:
        """Read the architecture back from a MuQ ``config.json`` dict (e.g. of downloaded weights)."""
        w2v2 = dict(cfg.get("w2v2_config") or {})
        stat = dict(cfg.get("stat") or {})
        kwargs: dict[str, Any] = {
            "encoder_dim": int(cfg.get("encoder_dim", 1024)),
            "encoder_depth": int(cfg.get("encoder_depth", 12)),
            "n_heads": int(w2v2.get("num_attention_heads", 16)),
            "ffn_dim": int(w2v2.get("intermediate_size", 4096)),
            "conv_dim": int(cfg.get("conv_dim", 512)),
            "conv_kernel": int(w2v2.get("conv_depthwise_kernel_size", 31)),
            "n_mels": int(cfg.get("n_mels", 128)),
            "codebook_size": int(cfg.get("codebook_size", 4096)),
            "codebook_dim": int(cfg.get("codebook_dim", 16)),
            "position_embeddings": w2v2.get("position_embeddings_type", "rotary"),
            "dropout": float(w2v2.get("hidden_dropout", 0.1)),
            "mel_mean": float(stat.get("melspec_2048_mean", _MEL_MEAN)),
            "mel_std": float(stat.get("melspec_2048_std", _MEL_STD)),
        }
        mapped = {
            "num_attention_heads",
            "intermediate_size",
            "conv_depthwise_kernel_size",
            "position_embeddings_type",
            "hidden_dropout",
            "activation_dropout",
            "attention_dropout",
            "conformer_conv_dropout",
            "hidden_size",
            "num_hidden_layers",
        }
        kwargs["extra_w2v2"] = {k: v for k, v in w2v2.items() if k not in mapped}
        kwargs.update(overrides)
        if "layers" not in overrides:
            depth = kwargs["encoder_depth"]
            kwargs["layers"] = tuple(i for i in (9, 10, 11, 12) if i <= depth) or (depth,)
        return cls(**kwargs)


def muq_large(**overrides: Any) -> MuQBackboneConfig:
    """The published MuQ-large architecture: 12 layers, 1024 wide, 16 heads, layers 9-12 -> 4096 dims."""
    return MuQBackboneConfig(**overrides)


def muq_tiny(**overrides: Any) -> MuQBackboneConfig:
    """A test-sized MuQ: 2 Conformer layers, width 32, both layers concatenated -> 64 dims."""
    base: dict[str, Any] = {
        "encoder_dim": 32,
        "encoder_depth": 2,
        "n_heads": 2,
        "ffn_dim": 64,
        "conv_dim": 8,
        "conv_kernel": 7,
        "n_mels": 128,
        "codebook_size": 64,
        "codebook_dim": 8,
        "dropout": 0.0,
        "layers": (1, 2),
        "chunk_seconds": 10.0,
        "min_seconds": 0.2,
        "extra_w2v2": {"num_conv_pos_embeddings": 4, "num_conv_pos_embedding_groups": 2},
    }
    base.update(overrides)
    return MuQBackboneConfig(**base)
