from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from piano_eval.errors import UsageError
from piano_eval.experiments.registry import EXPERIMENTS, build_experiment, experiment_class
from piano_eval.presets import load_preset, preset_path, resolve_config


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_has_a_valid_preset(name: str) -> None:
    path = preset_path(name)
    assert path is not None, f"no preset YAML for {name}"
    preset = load_preset(name)
    assert preset.id == name and {"quick", "full"} <= set(preset.sizes)
    cls = experiment_class(name)
    assert preset.group == cls.group
    for size in ("quick", "full"):
        if cls.defaults is not None:
            assert set(preset.config(size)) <= set(cls.defaults), f"{name}/{size} has keys the experiment lacks"
        exp = build_experiment(name, size=size)
        assert exp.config["size"] == size


def test_preset_round_trip(tmp_path: Path) -> None:
    shipped = load_preset("baseline-features")
    doc = {"id": shipped.id, "group": shipped.group, "description": shipped.description, **shipped.sizes}
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(doc))
    again = load_preset(path)
    assert again.sizes == shipped.sizes and again.id == shipped.id
    exp = build_experiment("baseline-features", {"model": "ridge"}, preset_file=str(path))
    assert exp.config["model"] == "ridge" and exp.config["hidden"] == shipped.sizes["quick"]["hidden"]


def test_unknown_keys_name_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: baseline-features\nquick:\n  hiden: 3\nfull: {}\n")
    with pytest.raises(UsageError, match=r"bad\.yaml: unknown preset key\(s\) hiden"):
        resolve_config("baseline-features", "quick", None, bad, set(experiment_class("baseline-features").defaults))
    top = tmp_path / "top.yaml"
    top.write_text("id: baseline-features\nquik: {}\n")
    with pytest.raises(UsageError, match=r"top\.yaml: unknown preset key\(s\) quik"):
        load_preset(top)
    other = tmp_path / "other.yaml"
    other.write_text("id: s9\nquick: {}\nfull: {}\n")
    with pytest.raises(UsageError, match="preset is for experiment 's9'"):
        build_experiment("baseline-features", preset_file=str(other))


def test_typed_configs_check_values_at_build() -> None:
    exp = build_experiment("a1", {"lr": "3e-4", "max_train": 12})
    assert exp.settings.lr == 3e-4 and exp.settings.max_train == 12 and exp.config["lr"] == 3e-4
    with pytest.raises(
        UsageError, match=r"^experiment 'a1': muq must be one of 'auto', 'tiny', 'large', got 'medium'$"
    ):
        build_experiment("a1", {"muq": "medium"})
    with pytest.raises(UsageError, match=r"epochs must be an integer, got 2\.5"):
        build_experiment("a3", {"epochs": 2.5})
    with pytest.raises(UsageError, match="ranking_weight must be a number, got True"):
        build_experiment("baseline-ranker", {"ranking_weight": True})
    ranker = build_experiment("baseline-ranker")
    assert ranker.settings.modalities == ["audio"] and ranker.settings.contrastive_weight == 0.2
    # mapping values are checked too: YAML reads '{t1:1.0}' (no space) as {'t1:1.0': None}
    bad = r"tier_weights must be a mapping of a string to a number .*got \{'t1:1\.0': None\}"
    with pytest.raises(UsageError, match=bad):
        build_experiment("s4", {"tier_weights": {"t1:1.0": None}})
    assert build_experiment("s4", {"tier_weights": {"t1": "1"}}).config["tier_weights"] == {"t1": 1.0}


def test_typed_config_errors_reach_the_cli_as_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from piano_eval.cli.main import main

    assert main(["run", "s1", "--set", "finetune=half"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "piano-eval run: error: experiment 's1': finetune must be one of 'full', 'top', got 'half'"
