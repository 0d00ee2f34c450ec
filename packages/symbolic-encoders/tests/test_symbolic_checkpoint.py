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


def test_failed_save_keeps_the_old_checkpoint_and_no_temp_folder(tmp_path, monkeypatch) -> None:
    bundle = build_encoder("s1", preset_config("s1", "tiny"))
    save_encoder_checkpoint(tmp_path / "ckpt", bundle, extra={"steps": 3})
    before = {p.name: p.read_bytes() for p in (tmp_path / "ckpt").iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle.tokenizer, "save", disk_full)  # fails after config and weights were written
    with pytest.raises(OSError, match="No space"):
        save_encoder_checkpoint(tmp_path / "ckpt", bundle, extra={"steps": 4})
    assert {p.name: p.read_bytes() for p in (tmp_path / "ckpt").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_tokenizer_mismatch_is_a_clear_error(tmp_path) -> None:
    save_encoder_checkpoint(tmp_path / "c", build_encoder("s1", preset_config("s1", "tiny")))
    other = RemiTokenizer(TokenizerSpec(num_velocities=16))
    with pytest.raises(PianoDataError, match="tokenizer"):
        load_encoder_checkpoint(tmp_path / "c", tokenizer=other)


def test_not_a_checkpoint(tmp_path) -> None:
    with pytest.raises(PianoDataError, match="not a symbolic encoder checkpoint"):
        load_encoder_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(PianoDataError, match="unreadable"):
        load_encoder_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"kind": "s9", "config": {}}))
    with pytest.raises(PianoDataError, match="unknown encoder kind"):
        load_encoder_checkpoint(tmp_path)


def test_tampered_weights_are_a_one_line_error(tmp_path) -> None:
    """A truncated weights file or a pickle of arbitrary objects is refused with the file named, never run."""
    import pickle

    from piano_symbolic.checkpoint import WEIGHTS_FILE

    out = save_encoder_checkpoint(tmp_path / "ck", build_encoder("s3", preset_config("s3", "tiny")))
    weights = out / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(PianoDataError, match=rf"{WEIGHTS_FILE}: unreadable safetensors weights"):
        load_encoder_checkpoint(out)
    weights.write_bytes(pickle.dumps({"w": print}))  # a pickle is not safetensors: refused, never unpickled
    with pytest.raises(PianoDataError, match=rf"{WEIGHTS_FILE}: unreadable safetensors weights"):
        load_encoder_checkpoint(out)


def test_weights_of_another_config_are_a_one_line_error(tmp_path) -> None:
    """A config edited after saving (a layer width changed) no longer fits the weights: the file is named."""
    from piano_symbolic.checkpoint import CONFIG_FILE, WEIGHTS_FILE

    out = save_encoder_checkpoint(tmp_path / "ck", build_encoder("s2", preset_config("s2", "tiny")))
    meta = json.loads((out / CONFIG_FILE).read_text())
    meta["config"]["hidden"] = meta["config"]["hidden"] * 2
    (out / CONFIG_FILE).write_text(json.dumps(meta))
    with pytest.raises(PianoDataError, match=rf"{WEIGHTS_FILE}: weights do not fit .* has shape"):
        load_encoder_checkpoint(out)
