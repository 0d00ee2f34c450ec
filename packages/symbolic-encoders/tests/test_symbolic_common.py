from __future__ import annotations

import pytest
import torch
from piano_data.contracts import EncoderOutput
from piano_symbolic.common import chunked, with_piece_contrast
from symbolic_testing import pull_same_piece


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


def _states() -> EncoderOutput:
    frames = torch.tensor([[[1.0, 0.0], [3.0, 0.0]], [[0.0, 2.0], [9.0, 9.0]]])
    return EncoderOutput(frames, torch.tensor([[True, True], [True, False]]))


def test_with_piece_contrast_adds_the_weighted_term() -> None:
    mlm = torch.tensor(2.0)
    batch = {"group_ids": torch.tensor([0, 0])}
    out = with_piece_contrast(
        {"mlm": mlm}, mlm, batch, pull_same_piece, _states, lambda z: z, temperature=0.5, weight=0.25
    )
    assert list(out) == ["mlm", "contrastive", "loss"]
    # projected means (2, 0) and (0, 2): squared distance 8, over temperature 0.5
    assert out["contrastive"].item() == pytest.approx(16.0)
    assert out["loss"].item() == pytest.approx(2.0 + 0.25 * 16.0)


@pytest.mark.parametrize("case", ["no group_ids", "no contrast", "zero weight"])
def test_with_piece_contrast_off_leaves_the_own_terms(case: str) -> None:
    def never() -> EncoderOutput:
        raise AssertionError("states computed although the term is off")

    loss = torch.tensor(1.5)
    batch = {} if case == "no group_ids" else {"group_ids": torch.tensor([0, 0])}
    contrast = None if case == "no contrast" else pull_same_piece
    weight = 0.0 if case == "zero weight" else 1.0
    out = with_piece_contrast({"a": loss}, loss, batch, contrast, never, lambda z: z, temperature=0.1, weight=weight)
    assert list(out) == ["a", "loss"] and out["loss"] is loss
