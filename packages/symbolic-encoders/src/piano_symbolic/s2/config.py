"""S2 configuration and named presets."""

from __future__ import annotations

from dataclasses import dataclass

from piano_data.contracts import SYMBOLIC_DIM

__all__ = ["S2Config", "s2_base", "s2_quick", "s2_tiny"]


@dataclass(frozen=True)
class S2Config:
    """GATv2 message passing over the note graph.

    ``max_nodes`` truncates a performance to its first notes (in onset order) before the graph is built.
    ``node_mask_prob`` of the nodes get velocity and timing masked (and predicted); ``edge_drop_prob`` of the
    edges are hidden from message passing and predicted against as many random non-edges.
    """

    hidden: int = 256
    n_layers: int = 6
    n_heads: int = 4
    dropout: float = 0.1
    max_nodes: int = 1024
    chord_tol: float = 0.03
    output_dim: int = SYMBOLIC_DIM
    node_mask_prob: float = 0.15
    edge_drop_prob: float = 0.15
    link_weight: float = 1.0
    contrastive_weight: float = 0.1
    temperature: float = 0.1


def s2_tiny() -> S2Config:
    """Test preset: 2 layers of width 32."""
    return S2Config(hidden=32, n_layers=2, n_heads=2, dropout=0.0, max_nodes=128)


def s2_quick() -> S2Config:
    """2-CPU preset: 3 layers of width 64."""
    return S2Config(hidden=64, n_layers=3, n_heads=4, max_nodes=320)


def s2_base() -> S2Config:
    """6 layers of width 256."""
    return S2Config()
