"""S2: a GATv2 encoder over note graphs; pretraining = link prediction + masked velocity/timing prediction."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from piano_data.contracts import EncoderOutput, PieceContrast
from torch import nn
from torch_geometric.nn import GATv2Conv
from torch_geometric.utils import to_dense_batch

from piano_symbolic.common import ContrastiveProjection, with_piece_contrast
from piano_symbolic.s2.config import S2Config
from piano_symbolic.s2.graph import EDGE_TYPES, N_NODE_FEATURES

__all__ = ["S2GraphEncoder"]

_MASKED_FEATURES = 3  # velocity, duration, IOI are the first three node features
_EDGE_DIM = len(EDGE_TYPES) + 1


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.conv = GATv2Conv(dim, dim // heads, heads=heads, edge_dim=_EDGE_DIM, dropout=dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        h = h + self.conv(self.norm1(h), edge_index, edge_attr)
        return h + self.ffn(self.norm2(h))


class S2GraphEncoder(nn.Module):
    """Note-graph encoder. ``forward({"graph": Batch})`` -> :class:`EncoderOutput` ``[B, N_max, output_dim]``.

    Node embeddings are laid out as a time-ordered sequence per graph (nodes are built in onset order), padded
    to the largest graph of the batch; the mask marks real notes.
    """

    def __init__(self, cfg: S2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.output_dim = cfg.output_dim
        d = cfg.hidden
        self.pitch_embed = nn.Embedding(128, d)
        self.feat = nn.Linear(N_NODE_FEATURES + 1, d)
        self.blocks = nn.ModuleList(_Block(d, cfg.n_heads, cfg.dropout) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, cfg.output_dim)
        self.node_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, _MASKED_FEATURES))
        self.link_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 1))
        self.contrast = ContrastiveProjection(cfg.output_dim)

    def node_states(
        self, graph: object, node_mask: torch.Tensor | None = None, edge_keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``[N, hidden]`` node states; ``node_mask`` hides velocity/timing of nodes, ``edge_keep`` edges."""
        x = graph.x.clone()  # type: ignore[attr-defined]
        flag = torch.zeros(len(x), 1, device=x.device)
        if node_mask is not None:
            x[node_mask, :_MASKED_FEATURES] = 0.0
            flag[node_mask] = 1.0
        h = self.pitch_embed(graph.pitch.clamp(0, 127)) + self.feat(torch.cat([x, flag], 1))  # type: ignore[attr-defined]
        ei, ea = graph.edge_index, graph.edge_attr  # type: ignore[attr-defined]
        if edge_keep is not None:
            ei, ea = ei[:, edge_keep], ea[edge_keep]
        for block in self.blocks:
            h = block(h, ei, ea)
        return self.norm(h)

    @staticmethod
    def _to_sequence(h: torch.Tensor, graph: object) -> tuple[torch.Tensor, torch.Tensor]:
        dense, mask = to_dense_batch(h, graph.batch, batch_size=graph.num_graphs)  # type: ignore[attr-defined]
        return dense, mask.bool()

    def body(self, batch: dict[str, object]) -> tuple[torch.Tensor, torch.Tensor]:
        """Node states as a time-ordered sequence ``[B, N_max, hidden]`` and its mask."""
        graph = batch["graph"]
        return self._to_sequence(self.node_states(graph), graph)

    def forward(self, batch: dict[str, object]) -> EncoderOutput:
        h, mask = self.body(batch)
        return EncoderOutput(self.out(h) * mask.unsqueeze(-1), mask)

    def pretraining_loss(
        self, batch: dict[str, object], piece_contrast: PieceContrast | None = None
    ) -> dict[str, torch.Tensor]:
        """Masked velocity/timing MSE + link-prediction BCE (+ ``contrastive_weight`` x ``piece_contrast`` on
        ``group_ids`` when given).
        """
        graph = batch["graph"]
        n = graph.num_nodes  # type: ignore[attr-defined]
        dev = graph.x.device  # type: ignore[attr-defined]
        node_mask = torch.rand(n, device=dev) < self.cfg.node_mask_prob
        if not bool(node_mask.any()):
            node_mask[torch.randint(n, (1,), device=dev)] = True
        ei = graph.edge_index  # type: ignore[attr-defined]
        hidden_edge = torch.rand(ei.shape[1], device=dev) < self.cfg.edge_drop_prob
        # hide both directions of a dropped pair: drop (i, j) if it or (j, i) was picked
        if ei.shape[1]:
            key = torch.minimum(ei[0], ei[1]) * n + torch.maximum(ei[0], ei[1])
            dropped_keys = torch.unique(key[hidden_edge])
            hidden_edge = torch.isin(key, dropped_keys)
        h = self.node_states(graph, node_mask, ~hidden_edge)

        target = graph.x[node_mask, :_MASKED_FEATURES]  # type: ignore[attr-defined]
        node_loss = F.mse_loss(self.node_head(h[node_mask]), target)
        out = {"masked_node": node_loss}
        loss = node_loss
        pos = ei[:, hidden_edge]
        if pos.shape[1]:
            b = graph.batch  # type: ignore[attr-defined]
            ptr = graph.ptr  # type: ignore[attr-defined]
            counts = (ptr[1:] - ptr[:-1])[b[pos[0]]]
            neg_dst = ptr[b[pos[0]]] + (torch.rand(pos.shape[1], device=dev) * counts).long()
            neg = torch.stack([pos[0], neg_dst])
            pairs = torch.cat([pos, neg], 1)
            labels = torch.cat([torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])]).to(dev)
            logits = self.link_head(h[pairs[0]] * h[pairs[1]]).squeeze(-1)
            link = F.binary_cross_entropy_with_logits(logits, labels)
            out["link"] = link
            loss = loss + self.cfg.link_weight * link

        def states() -> EncoderOutput:
            dense, mask = self._to_sequence(h, graph)
            return EncoderOutput(self.out(dense) * mask.unsqueeze(-1), mask)

        return with_piece_contrast(
            out,
            loss,
            batch,
            piece_contrast,
            states,
            self.contrast,
            temperature=self.cfg.temperature,
            weight=self.cfg.contrastive_weight,
        )
