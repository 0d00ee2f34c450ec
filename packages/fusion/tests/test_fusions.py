from __future__ import annotations

import pytest
import torch
from fusion_testing import insert_padding, make_output
from hypothesis import given, settings
from hypothesis import strategies as st
from piano_fusion import FusionInputError, GatedFusion, build_fusion, fusion_tiny

KINDS = ["cross_attention", "concat", "gated"]
MODS = ("audio", "perf_midi")
DIMS = (24, 16)


def _inputs(lengths_a: list[int], lengths_s: list[int]) -> dict:
    return {"audio": make_output(lengths_a, DIMS[0]), "perf_midi": make_output(lengths_s, DIMS[1])}


@pytest.mark.parametrize("kind", KINDS)
def test_shapes(kind: str) -> None:
    fusion = build_fusion(fusion_tiny(kind), MODS, DIMS)
    out = fusion(_inputs([3, 5, 2], [4, 1, 6]))
    k = 19 if kind == "gated" else 1
    assert out.z.shape == (3, k, 32)
    assert set(out.per_modality) == set(MODS)
    assert (out.gates is not None) == (kind == "gated")


@pytest.mark.parametrize("kind", KINDS)
@settings(deadline=None, max_examples=5)
@given(extra_a=st.integers(1, 5), extra_s=st.integers(1, 5), seed=st.integers(0, 1000))
def test_padding_invariance(kind: str, extra_a: int, extra_s: int, seed: int) -> None:
    torch.manual_seed(3)
    fusion = build_fusion(fusion_tiny(kind), MODS, DIMS).eval()
    inputs = _inputs([3, 5, 1], [4, 1, 6])
    gen = torch.Generator().manual_seed(seed)
    padded = {
        "audio": insert_padding(inputs["audio"], extra_a, gen),
        "perf_midi": insert_padding(inputs["perf_midi"], extra_s, gen, fill=float("nan")),
    }
    a, b = fusion(inputs), fusion(padded)
    torch.testing.assert_close(b.z, a.z, atol=1e-5, rtol=1e-4)
    for m in MODS:
        torch.testing.assert_close(b.per_modality[m], a.per_modality[m], atol=1e-5, rtol=1e-4)
    if a.gates is not None:
        torch.testing.assert_close(b.gates, a.gates, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_every_parameter(kind: str) -> None:
    fusion = build_fusion(fusion_tiny(kind), MODS, DIMS)
    out = fusion(_inputs([3, 5, 2], [4, 1, 6]))
    (out.z.square().sum() + sum(v.sum() for v in out.per_modality.values())).backward()
    dead = [n for n, p in fusion.named_parameters() if p.grad is None or not p.grad.any()]
    assert not dead


@pytest.mark.parametrize("n_mod", [2, 3])
def test_gates_in_unit_interval_and_sum_to_one(n_mod: int) -> None:
    mods = ("audio", "perf_midi", "score_midi")[:n_mod]
    dims = (24, 16, 16)[:n_mod]
    fusion = GatedFusion(mods, dims, fusion_tiny("gated"))
    with torch.no_grad():
        fusion.gate.weight.mul_(50.0)  # push gates towards saturation
    out = fusion({m: make_output([3, 5], d) for m, d in zip(mods, dims, strict=True)})
    assert out.gates is not None and out.gates.shape == (2, 19, n_mod)
    assert (out.gates >= 0).all() and (out.gates <= 1).all()
    torch.testing.assert_close(out.gates.sum(-1), torch.ones(2, 19))


def test_gated_known_answer() -> None:
    """gate_d = sigmoid(W_d [z_a; z_s]); z_d = gate_d z_a + (1 - gate_d) z_s."""
    fusion = GatedFusion(MODS, DIMS, fusion_tiny("gated"))
    out = fusion(_inputs([3], [4]))
    za, zs = out.per_modality["audio"], out.per_modality["perf_midi"]
    g = torch.sigmoid(fusion.gate(torch.cat([za, zs], -1)))
    torch.testing.assert_close(out.gates[..., 0], g)
    torch.testing.assert_close(out.z, g[..., None] * za[:, None] + (1 - g[..., None]) * zs[:, None])


def test_concat_single_modality_ok_others_need_two() -> None:
    assert build_fusion(fusion_tiny("concat"), ("audio",), (8,))({"audio": make_output([2], 8)}).z.shape == (
        1,
        1,
        32,
    )
    for kind in ("cross_attention", "gated"):
        with pytest.raises(FusionInputError, match="at least 2"):
            build_fusion(fusion_tiny(kind), ("audio",), (8,))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_inputs(kind: str) -> None:
    fusion = build_fusion(fusion_tiny(kind), MODS, DIMS)
    with pytest.raises(FusionInputError, match="batch sizes differ"):
        fusion({"audio": make_output([3, 2], 24), "perf_midi": make_output([3], 16)})
    with pytest.raises(FusionInputError, match="width"):
        fusion({"audio": make_output([3], 24), "perf_midi": make_output([3], 17)})
    with pytest.raises(FusionInputError, match="missing"):
        fusion({"audio": make_output([3], 24)})
    with pytest.raises(FusionInputError, match="all padding"):
        fusion({"audio": make_output([3, 0], 24, max_len=3), "perf_midi": make_output([3, 2], 16)})


def test_unknown_kind() -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="unknown fusion kind"):
        build_fusion(replace(fusion_tiny(), kind="bogus"), MODS, DIMS)  # type: ignore[arg-type]
