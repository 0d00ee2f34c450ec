from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from audio_testing import tone
from piano_audio import MuQBackbone, muq_backbone, muq_tiny, save_backbone
from piano_audio.lora import MuQLoRAConfig, apply_lora, load_lora, lora_parameters, save_lora
from piano_data.errors import PianoDataError


def test_saved_tiny_model_and_adapter_reload_identically(tiny: MuQBackbone, tmp_path: Path) -> None:
    x = torch.from_numpy(tone(1.0))[None]
    apply_lora(tiny, MuQLoRAConfig(rank=4, layers=(1, 2)))
    with torch.no_grad():
        for p in lora_parameters(tiny):
            p.normal_(0, 0.1)  # make the adapters non-trivial
        expected = tiny(x).frames
    save_backbone(tiny, tmp_path / "muq")
    save_lora(tiny, tmp_path / "adapter")
    assert sorted(p.name for p in (tmp_path / "muq").iterdir()) == ["config.json", "model.safetensors"]

    torch.manual_seed(123)  # a different RNG state must not matter
    reloaded = load_lora(muq_backbone(weights=str(tmp_path / "muq")), tmp_path / "adapter")
    with torch.no_grad():
        assert torch.allclose(reloaded(x).frames, expected, atol=1e-6)
    assert reloaded.config.layers == (1, 2)
    # the base weights alone give the un-adapted output
    base = muq_backbone(weights=str(tmp_path / "muq"))
    with torch.no_grad():
        assert not torch.allclose(base(x).frames, expected, atol=1e-4)


def test_save_replaces_an_existing_folder_whole(tiny: MuQBackbone, tmp_path: Path) -> None:
    out = tmp_path / "muq"
    out.mkdir()
    (out / "pytorch_model.bin").write_bytes(b"stale weights of another model")
    (out / "config.json").write_text("{}")
    save_backbone(tiny, out)
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["muq"]  # no temporary or aside folder left
    assert muq_backbone(weights=str(out)).config == tiny.config


def test_wrong_size_checkpoint(tiny: MuQBackbone, tmp_path: Path) -> None:
    save_backbone(tiny, tmp_path / "muq")
    cfg = json.loads((tmp_path / "muq" / "config.json").read_text())
    cfg["w2v2_config"]["intermediate_size"] = 48  # the weights were saved with 64
    (tmp_path / "muq" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(PianoDataError, match="does not fit the config"):
        muq_backbone(weights=str(tmp_path / "muq"))


def test_adapter_for_another_width(tiny: MuQBackbone, tmp_path: Path) -> None:
    apply_lora(tiny, MuQLoRAConfig(rank=4, layers=(1, 2)))
    save_lora(tiny, tmp_path / "adapter")
    wider = muq_backbone(muq_tiny(encoder_dim=48, n_heads=2))
    with pytest.raises(PianoDataError, match="32-wide"):
        load_lora(wider, tmp_path / "adapter")


def test_missing_weights_say_how_to_provide_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(PianoDataError, match="muq-weights DIR") as err:
        muq_backbone(weights="OpenMuQ/MuQ-large-msd-iter")
    assert "huggingface-cli download" in str(err.value)
    with pytest.raises(PianoDataError, match="not found"):
        muq_backbone(weights=str(tmp_path / "no" / "such" / "dir"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(PianoDataError, match=r"config\.json"):
        muq_backbone(weights=str(tmp_path / "empty"))
