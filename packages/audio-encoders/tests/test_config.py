from __future__ import annotations

import pytest
from piano_audio import MuQBackbone, MuQBackboneConfig, muq_large, muq_tiny
from piano_data.contracts import MUQ_DIM


def test_large_preset_is_the_published_layout() -> None:
    cfg = muq_large()
    assert (cfg.encoder_depth, cfg.encoder_dim, cfg.layers) == (12, 1024, (9, 10, 11, 12))
    assert cfg.output_dim == MUQ_DIM
    # counted on the meta device: no memory, no random init
    backbone = MuQBackbone(cfg, meta=True)
    n = sum(p.numel() for p in backbone.parameters())
    assert 328e6 < n < 330e6  # the published model has about 329M parameters


def test_tiny_preset_is_small() -> None:
    cfg = muq_tiny()
    assert cfg.output_dim == 64 and cfg.encoder_depth == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": (13,)}, "outside 1..12"),
        ({"layers": ()}, "at least one"),
        ({"layers": (9, 9)}, "distinct"),
        ({"n_heads": 5}, "divisible"),
        ({"n_mels": 64}, "128"),
    ],
)
def test_bad_configs_fail_clearly(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MuQBackboneConfig(**kwargs)


def test_config_round_trips_through_muq_dict() -> None:
    cfg = muq_tiny()
    back = MuQBackboneConfig.from_muq_config(
        cfg.muq_config(), layers=cfg.layers, chunk_seconds=cfg.chunk_seconds, min_seconds=cfg.min_seconds
    )
    assert back.w2v2_config() == cfg.w2v2_config()
    assert back.muq_config() == cfg.muq_config()
