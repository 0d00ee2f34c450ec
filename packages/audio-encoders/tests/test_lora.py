from __future__ import annotations

import pytest
import torch
from audio_testing import tone
from piano_audio import MuQBackbone, muq_large
from piano_audio.lora import MuQLoRAConfig, apply_lora, lora_parameters, trainable_fraction
from piano_data.errors import PianoDataError


@pytest.mark.parametrize("rank", [16, 64])
def test_large_layout_trains_under_one_percent(rank: int) -> None:
    backbone = apply_lora(MuQBackbone(muq_large(), meta=True), MuQLoRAConfig(rank=rank))
    frac = trainable_fraction(backbone)
    assert 0 < frac < 0.01
    names = [n for n, p in backbone.named_parameters() if p.requires_grad]
    assert len(names) == 4 * 4 * 2  # 4 layers x q/k/v/out x (A, B)
    assert {n.split(".layers.")[1].split(".")[0] for n in names} == {"8", "9", "10", "11"}
    assert all(".self_attn.linear_" in n for n in names)


def test_lora_starts_as_identity_and_only_adapters_get_gradients(tiny: MuQBackbone) -> None:
    x = torch.from_numpy(tone(1.0))[None]
    with torch.no_grad():
        before = tiny(x).frames
    apply_lora(tiny, MuQLoRAConfig(rank=4, layers=(2,)))
    with torch.no_grad():
        assert torch.allclose(tiny(x).frames, before, atol=1e-6)  # B is zero-initialised
    tiny.train()
    tiny(x).frames.pow(2).mean().backward()
    grads = {n for n, p in tiny.named_parameters() if p.grad is not None}
    assert grads and all("lora_" in n for n in grads)
    assert len(lora_parameters(tiny)) == 8


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (MuQLoRAConfig(layers=(9, 10)), "match no module"),
        (MuQLoRAConfig(layers=(1,), targets=("query",)), "match no module"),
        (MuQLoRAConfig(layers=(2, 3)), "do not exist"),
    ],
)
def test_targets_matching_nothing(tiny: MuQBackbone, cfg: MuQLoRAConfig, message: str) -> None:
    with pytest.raises(PianoDataError, match=message):
        apply_lora(tiny, cfg)


def test_rank_is_validated() -> None:
    with pytest.raises(ValueError, match="rank"):
        MuQLoRAConfig(rank=0)
