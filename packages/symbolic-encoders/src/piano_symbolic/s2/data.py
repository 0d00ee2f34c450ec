"""S2 inputs: note graphs and their batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from piano_data.midi import NoteArray
from torch_geometric.data import Batch, Data

from piano_symbolic.s2.graph import build_note_graph, canonical_order

__all__ = ["S2Featurizer"]


class S2Featurizer:
    """Builds the graph of the first ``max_nodes`` notes (onset order) of a performance."""

    def __init__(self, max_nodes: int, chord_tol: float = 0.03) -> None:
        self.max_nodes = max_nodes
        self.chord_tol = chord_tol

    def __call__(self, notes: NoteArray) -> Data:
        if len(notes) > self.max_nodes:
            keep = np.sort(canonical_order(notes)[: self.max_nodes])
            notes = NoteArray(
                notes.onset[keep],
                notes.offset[keep],
                notes.pitch[keep],
                notes.velocity[keep],
                notes.pedal,
                notes.source,
            )
        return build_note_graph(notes, chord_tol=self.chord_tol)

    def collate(self, items: Sequence[Data]) -> dict[str, object]:
        """``{"graph": torch_geometric Batch}``."""
        return {"graph": Batch.from_data_list(list(items))}
