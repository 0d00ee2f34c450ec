from __future__ import annotations

import pytest
import torch
from fusion_testing import insert_padding, make_output
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_data.contracts import EncoderOutput
from piano_fusion import AttentionPooling, FusionInputError, ModalityEmbedder, masked_softmax


def test_masked_softmax_zero_on_padding() -> None:
    scores = torch.tensor([[1.0, 2.0, 100.0]])
    mask = torch.tensor([[True, True, False]])
    w = masked_softmax(scores, mask)
    assert w[0, 2] == 0
    torch.testing.assert_close(w[0, :2], torch.softmax(torch.tensor([1.0, 2.0]), 0))


def test_pooling_known_answer_uniform_scores() -> None:
    pool = AttentionPooling(2, hidden=4)
    for p in pool.parameters():
        torch.nn.init.zeros_(p)  # all scores equal -> mean over valid frames
    frames = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [99.0, 99.0]]])
    mask = torch.tensor([[True, True, False]])
    torch.testing.assert_close(pool(frames, mask), torch.tensor([[2.0, 3.0]]))


def test_embedder_shape() -> None:
    emb = ModalityEmbedder(24, out_dim=32, pool_hidden=8, hidden=16)
    z = emb(make_output([3, 5], 24))
    assert z.shape == (2, 32)


@settings(deadline=None, max_examples=10)
@given(n_extra=st.integers(1, 6), seed=st.integers(0, 1000), nan=st.booleans())
def test_padding_invariance(n_extra: int, seed: int, nan: bool) -> None:
    torch.manual_seed(1)
    emb = ModalityEmbedder(12, out_dim=16, pool_hidden=8, hidden=16, dropout=0.0).eval()
    out = make_output([4, 1, 7], 12)
    padded = insert_padding(out, n_extra, torch.Generator().manual_seed(seed), float("nan") if nan else None)
    torch.testing.assert_close(emb(padded), emb(out), atol=1e-5, rtol=1e-5)


def test_all_padding_row_is_an_error() -> None:
    emb = ModalityEmbedder(8, out_dim=16, hidden=16)
    out = make_output([3, 0], 8, max_len=3)
    with pytest.raises(FusionInputError, match="all padding"):
        emb(out, "audio")


def test_wrong_width_and_nan_frames_are_errors() -> None:
    emb = ModalityEmbedder(8, out_dim=16, hidden=16)
    with pytest.raises(FusionInputError, match="width 9"):
        emb(make_output([3], 9))
    bad = make_output([3], 8)
    frames = bad.frames.clone()
    frames[0, 1, 0] = float("nan")
    with pytest.raises(FusionInputError, match="NaN"):
        emb(EncoderOutput(frames=frames, mask=bad.mask))


def test_stats_pooling_known_answer_uniform_scores() -> None:
    pool = AttentionPooling(2, hidden=4, stats=True, eps=0.0)
    for p in pool.parameters():
        torch.nn.init.zeros_(p)  # all scores equal -> mean and population std over valid frames
    frames = torch.tensor([[[1.0, 2.0], [3.0, 6.0], [99.0, 99.0]]])
    mask = torch.tensor([[True, True, False]])
    assert pool.output_dim == 4
    torch.testing.assert_close(pool(frames, mask), torch.tensor([[2.0, 4.0, 1.0, 2.0]]))


def test_stats_pooling_shape_padding_invariance_and_gradient() -> None:
    torch.manual_seed(0)
    pool = AttentionPooling(6, hidden=8, stats=True)
    out = make_output([4, 1, 7], 6)
    z = pool(out.frames, out.mask)
    assert z.shape == (3, 12)
    assert torch.all(z[:, 6:] > 0)
    torch.testing.assert_close(z[1, 6:], torch.full((6,), 1e-5**0.5))  # one frame: zero spread (+ eps)
    padded = insert_padding(out, 3, torch.Generator().manual_seed(2), None)
    torch.testing.assert_close(pool(padded.frames, padded.mask), z, atol=1e-5, rtol=1e-5)
    z.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in pool.parameters())


def test_regressor_with_stats_pooling_heads_twice_the_width() -> None:
    from piano_fusion import EncoderRegressor

    class Frames(torch.nn.Module):
        output_dim = 6

        def forward(self, batch: dict[str, EncoderOutput]) -> EncoderOutput:
            return batch["out"]

    model = EncoderRegressor(Frames(), hidden=8, pool_hidden=4, pool_stats=True).eval()
    batch = {"out": make_output([3, 5], 6)}
    assert model.embed(batch).shape == (2, 12)
    assert model(batch).shape == (2, 19)


def test_regressor_side_vector_joins_after_pooling() -> None:
    from piano_fusion import EncoderRegressor

    class Frames(torch.nn.Module):
        output_dim = 6

        def forward(self, batch: dict[str, torch.Tensor]) -> EncoderOutput:
            return EncoderOutput(batch["frames"], batch["mask"])

    torch.manual_seed(0)
    model = EncoderRegressor(Frames(), hidden=8, pool_hidden=4, pool_stats=True, side_dim=3).eval()
    out = make_output([3, 5], 6)
    side = torch.randn(2, 3)
    batch = {"frames": out.frames, "mask": out.mask, "features": side}
    z = model.embed(batch)
    assert z.shape == (2, 15)
    torch.testing.assert_close(z[:, 12:], side)
    assert model(batch).shape == (2, 19)
    with pytest.raises(ValueError, match="must be"):
        model({**batch, "features": torch.zeros(2, 4)})
