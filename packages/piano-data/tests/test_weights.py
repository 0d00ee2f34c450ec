"""Module weights as safetensors + JSON spec: round trip, rebuilt (left-out) weights, refusals naming the file."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from piano_data.errors import PianoDataError
from piano_data.weights import load_module, save_module
from torch import nn


def _net(spec: dict) -> nn.Module:
    torch.manual_seed(int(spec.get("seed", 0)))
    net = nn.Sequential(
        nn.Linear(4, int(spec["width"])), nn.BatchNorm1d(int(spec["width"])), nn.Linear(int(spec["width"]), 2)
    )
    return net


def test_round_trip_with_rebuilt_weights(tmp_path: Path) -> None:
    torch.manual_seed(1)
    net = _net({"width": 8, "seed": 5})
    with torch.no_grad():
        net[2].weight.add_(1.0)  # trained: differs from the seeded build
    net[1].running_mean.fill_(0.25)  # buffers are always stored
    save_module(tmp_path, "m", net, {"width": 8, "seed": 5}, rebuilt=["0.weight", "0.bias"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]
    loaded, spec = load_module(tmp_path, "m", _net)
    assert spec == {"width": 8, "seed": 5} and not loaded.training
    for (k, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_rebuilt_weights_that_differ_are_refused(tmp_path: Path) -> None:
    save_module(tmp_path, "m", _net({"width": 8, "seed": 5}), {"width": 8, "seed": 5}, rebuilt=["0.weight"])
    meta = json.loads((tmp_path / "m.json").read_text())
    meta["spec"]["seed"] = 6  # the loader would rebuild other "frozen" weights than those trained with
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(PianoDataError, match=r"m\.json: the rebuilt weights .* differ"):
        load_module(tmp_path, "m", _net)


def test_other_width_and_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    save_module(tmp_path, "m", _net({"width": 8}), {"width": 8})
    with pytest.raises(PianoDataError, match=r"m\.safetensors: weights do not fit .*0\.weight has shape \(8, 4\)"):
        load_module(tmp_path, "m", lambda spec: _net({"width": 16}))
    with pytest.raises(PianoDataError, match=r"m\.json: checkpoint spec does not build a model"):
        load_module(tmp_path, "m", lambda spec: _net({}))
    (tmp_path / "m.safetensors").write_bytes(pickle.dumps({"w": print}))  # never unpickled
    with pytest.raises(PianoDataError, match=r"m\.safetensors: unreadable safetensors weights"):
        load_module(tmp_path, "m", _net)
    (tmp_path / "m.json").write_text("{")
    with pytest.raises(PianoDataError, match=r"m\.json: unreadable checkpoint metadata"):
        load_module(tmp_path, "m", _net)
    with pytest.raises(PianoDataError, match=r"n\.json: checkpoint file missing"):
        load_module(tmp_path, "n", _net)


def test_tied_weights_are_saved(tmp_path: Path) -> None:
    net = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))
    net[1].weight = net[0].weight  # shared storage: safetensors refuses it unless copied
    save_module(tmp_path, "tied", net, {})
    loaded, _ = load_module(
        tmp_path, "tied", lambda spec: nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))
    )
    assert torch.equal(loaded[0].weight, net[0].weight) and torch.equal(loaded[1].weight, net[0].weight)
