"""Keep the caller's global random state intact around code that reseeds it (building a ``MuQ`` does), and
seed a block of code without leaving the process reseeded (library calls never change global state)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["preserved_rng_state", "seeded"]


@contextmanager
def preserved_rng_state() -> Iterator[None]:
    """Save the torch (CPU and initialised CUDA), numpy and ``random`` states; restore them on exit."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed ``random``, numpy and torch (CPU and CUDA) for the block, then restore the caller's states."""
    with preserved_rng_state():
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)  # seeds every CUDA device too
        yield
