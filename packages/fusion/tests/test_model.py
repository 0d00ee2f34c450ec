from __future__ import annotations

import pytest
import torch
from fusion_testing import make_output
from piano_data.contracts import EncoderOutput
from piano_fusion import FusionInputError, PianoModel, piano_model_base, piano_model_tiny
from torch import nn

DIMS = {"audio": 24, "perf_midi": 16, "score_midi": 16}

#: (modalities, fusion kind, expected mode)
CASES = [
    (("audio",), "concat", "audio"),
    (("perf_midi",), "concat", "symbolic"),
    (("audio", "perf_midi"), "cross_attention", "fused"),
    (("audio", "perf_midi"), "concat", "fused"),
    (("audio", "perf_midi"), "gated", "fused"),
    (("audio", "perf_midi", "score_midi"), "gated", "score_conditioned"),
    (("audio", "perf_midi", "score_midi"), "cross_attention", "score_conditioned"),
    (("perf_midi", "score_midi"), "concat", "score_conditioned"),
]


class ToyEncoder(nn.Module):
    """A stand-in SequenceEncoder: ``(x [B, T, in], mask) -> EncoderOutput(Linear(x), mask)``."""

    def __init__(self, in_dim: int, output_dim: int) -> None:
        super().__init__()
        self.output_dim = output_dim
        self.proj = nn.Linear(in_dim, output_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> EncoderOutput:
        return EncoderOutput(frames=self.proj(x), mask=mask)


def _model(mods: tuple, kind: str) -> PianoModel:
    return PianoModel(piano_model_tiny(mods, kind, tuple(DIMS[m] for m in mods)))


def _batch(mods: tuple, n: int = 6) -> dict:
    lengths = [3 + (i % 4) for i in range(n)]
    return {m: make_output(lengths, DIMS[m]) for m in mods}


@pytest.mark.parametrize(("mods", "kind", "mode"), CASES)
def test_modes_and_shapes(mods: tuple, kind: str, mode: str) -> None:
    model = _model(mods, kind)
    assert model.mode == mode
    out = model(_batch(mods, 4))
    assert out.quality.shape == (4, 19) and out.ranking.shape == (4, 19) and out.difficulty.shape == (4,)
    assert ((out.quality >= 0) & (out.quality <= 1)).all()
    assert out.embedding.shape == (4, 32)
    assert set(out.per_modality) == set(mods)
    assert (out.gates is not None) == (kind == "gated")


@pytest.mark.parametrize(("mods", "kind", "mode"), CASES)
def test_gradients_reach_every_trainable_parameter(mods: tuple, kind: str, mode: str) -> None:
    model = _model(mods, kind)
    out = model(_batch(mods, 4))
    (out.quality.sum() + out.ranking.sum() + out.difficulty.sum()).backward()
    dead = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert not dead


@pytest.mark.parametrize(("mods", "kind", "mode"), CASES)
def test_overfits_a_small_batch(mods: tuple, kind: str, mode: str) -> None:
    model = _model(mods, kind)
    batch = _batch(mods, 8)
    labels = torch.rand(8, 19)
    opt = torch.optim.Adam(model.param_groups(1e-2))
    first = None
    for _ in range(120):
        loss = torch.mean((model(batch).quality - labels) ** 2)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05 * first, (first, loss.item())


def test_pinned_parameter_count() -> None:
    assert sum(p.numel() for p in _model(("audio", "perf_midi"), "gated").parameters()) == 10_122
    assert sum(p.numel() for p in PianoModel(piano_model_base()).parameters()) > 2_000_000


def test_encoders_frozen_then_unfrozen_with_own_lr() -> None:
    enc = {"audio": ToyEncoder(5, 24), "perf_midi": ToyEncoder(3, 16)}
    model = PianoModel(piano_model_tiny(("audio", "perf_midi"), "concat"), encoders=enc)
    assert model.in_dims == {"audio": 24, "perf_midi": 16}
    mask = torch.ones(2, 4, dtype=torch.bool)
    batch = {"audio": (torch.randn(2, 4, 5), mask), "perf_midi": (torch.randn(2, 4, 3), mask), "labels": None}
    model.train()
    assert model.encoders_frozen and not model.encoders.training
    assert [g["name"] for g in model.param_groups(1e-3)] == ["fusion_heads"]
    model(batch).quality.sum().backward()
    assert all(p.grad is None for p in model.encoders.parameters())
    model.unfreeze_encoders()
    model.train()
    assert model.encoders.training
    groups = model.param_groups(1e-3, weight_decay=0.01)
    assert [(g["name"], g["lr"]) for g in groups] == [("fusion_heads", 1e-3), ("encoders", 1e-6)]
    enc_ids = {id(p) for p in model.encoders.parameters()}
    assert {id(p) for p in groups[1]["params"]} == enc_ids
    assert not enc_ids & {id(p) for p in groups[0]["params"]}
    model(batch).quality.sum().backward()
    assert all(p.grad is not None and p.grad.any() for p in model.encoders.parameters())
    # encoders and precomputed outputs mix: a precomputed EncoderOutput skips the encoder
    out = model({"audio": make_output([4, 4], 24), "perf_midi": (torch.randn(2, 4, 3), mask)})
    assert out.quality.shape == (2, 19)


def test_plain_callable_encoder() -> None:
    class Plain:
        output_dim = 16

        def __call__(self, n: int) -> EncoderOutput:
            return make_output([2] * n, 16)

    model = PianoModel(piano_model_tiny(("perf_midi",)), encoders={"perf_midi": Plain()})
    assert model({"perf_midi": 3}).quality.shape == (3, 19)


def test_bad_configs_and_inputs() -> None:
    with pytest.raises(FusionInputError, match="score_midi alone"):
        PianoModel(piano_model_tiny(("score_midi",)))
    with pytest.raises(FusionInputError, match="unknown modalities"):
        PianoModel(piano_model_tiny(("video",)))  # type: ignore[arg-type]
    with pytest.raises(FusionInputError, match="output_dim 24 but the config says 30"):
        PianoModel(piano_model_tiny(("audio",), in_dims=(30,)), encoders={"audio": ToyEncoder(3, 24)})
    with pytest.raises(FusionInputError, match="at least 2"):
        PianoModel(piano_model_tiny(("audio",), "gated"))
    model = _model(("audio", "perf_midi", "score_midi"), "concat")
    batch = _batch(("audio", "perf_midi", "score_midi"), 3)
    with pytest.raises(FusionInputError, match="missing input for modality 'score_midi'"):
        model({k: v for k, v in batch.items() if k != "score_midi"})
    with pytest.raises(FusionInputError, match="batch sizes differ"):
        model({**batch, "score_midi": make_output([2, 2], 16)})
    with pytest.raises(FusionInputError, match="no encoder given"):
        model({**batch, "audio": torch.zeros(3, 2, 24)})
    with pytest.raises(FusionInputError, match="all padding"):
        model({**batch, "score_midi": make_output([2, 0, 1], 16)})
