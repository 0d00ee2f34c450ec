from __future__ import annotations

import torch
from piano_symbolic.common import chunked


def test_chunked_keeps_length_and_order() -> None:
    x = torch.arange(10.0).view(1, 10, 1)
    mask = torch.ones(1, 10, dtype=torch.bool)
    calls = []

    def fn(a: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        calls.append(a.shape[1])
        return a * 2

    out = chunked(fn, x, mask, 4)
    assert calls == [4]
    assert torch.equal(out, x * 2)
