from __future__ import annotations

import math

import torch
from piano_symbolic.common import chunked, group_info_nce, masked_mean


def test_group_info_nce_known_answer() -> None:
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    loss = group_info_nce(z, torch.tensor([0, 0, -1]), temperature=1.0)
    expected = -math.log(math.e / (math.e + 1.0))
    assert math.isclose(float(loss), expected, rel_tol=1e-5)
    assert float(group_info_nce(z, torch.tensor([-1, -1, -1]))) == 0.0


def test_masked_mean_ignores_padding() -> None:
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert float(masked_mean(x, torch.tensor([[True, True, False]]))) == 2.0


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
