from __future__ import annotations

import json

import pytest
import torch
from piano_data.errors import PianoDataError
from piano_symbolic.checkpoint import load_encoder_checkpoint, save_encoder_checkpoint
from piano_symbolic.encoders import build_encoder, preset_config
from piano_symbolic.tokenizer import RemiTokenizer, TokenizerSpec


@pytest.mark.parametrize("kind", ["s1", "s2", "s3"])
def test_round_trip(tmp_path, kind) -> None:
    bundle = build_encoder(kind, preset_config(kind, "tiny"))
    save_encoder_checkpoint(tmp_path / "ckpt", bundle, extra={"steps": 3})
    save_encoder_checkpoint(tmp_path / "ckpt", bundle, extra={"steps": 4})  # overwrite in place
    loaded, extra = load_encoder_checkpoint(tmp_path / "ckpt", tokenizer=bundle.tokenizer)
    assert extra == {"steps": 4} and loaded.kind == kind
    for (name, a), (_, b) in zip(bundle.model.state_dict().items(), loaded.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert (tmp_path / "ckpt" / "tokenizer.json").is_file() == (kind == "s1")
    assert not list(tmp_path.glob(".ckpt.*"))


def test_tokenizer_mismatch_is_a_clear_error(tmp_path) -> None:
    save_encoder_checkpoint(tmp_path / "c", build_encoder("s1", preset_config("s1", "tiny")))
    other = RemiTokenizer(TokenizerSpec(num_velocities=16))
    with pytest.raises(PianoDataError, match="tokenizer"):
        load_encoder_checkpoint(tmp_path / "c", tokenizer=other)


def test_not_a_checkpoint(tmp_path) -> None:
    with pytest.raises(PianoDataError, match="not a symbolic encoder checkpoint"):
        load_encoder_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{")
    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(PianoDataError, match="unreadable"):
        load_encoder_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"kind": "s9", "config": {}}))
    with pytest.raises(PianoDataError, match="unknown encoder kind"):
        load_encoder_checkpoint(tmp_path)
