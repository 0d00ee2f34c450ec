"""Every experiment id trains into a checkpoint, loads back and predicts the same numbers (tiny presets).

A checkpoint holds safetensors, npz and JSON only (never a pickle), and one whose manifest config was edited
(a layer width changed) is refused with a :class:`PianoDataError` naming a file of the checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piano_data.errors import PianoDataError
from piano_data.soundfonts import available_soundfonts
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus
from piano_eval.checkpoint import MANIFEST, load_checkpoint, train_checkpoint
from piano_eval.datasets import LabelledCorpus
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import EXPERIMENTS, build_experiment
from tiny_presets import tiny_config

#: The preset key whose value sets a layer width of each experiment's trained model.
WIDTH_KEY = {
    "s1": "head_hidden",
    "s2": "head_hidden",
    "s3": "head_hidden",
    "s4": "head_hidden",
}
RENDERS = {"a1", "a2", "a3", "baseline-paper", "baseline-ranker", "f1", "f2", "f3"}
ALLOWED_SUFFIXES = {".safetensors", ".npz", ".json"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> LabelledCorpus:
    segs = make_synthetic_corpus(
        SyntheticConfig(works=2, pieces_per_work=1, segments_per_piece=2, players=4), tmp_path_factory.mktemp("synth")
    )
    return LabelledCorpus("synthetic-mini", segs, "test", None)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Checkpoints trained so far in this module: id -> (in-memory experiment, checkpoint folder)."""
    return {"root": tmp_path_factory.mktemp("checkpoints")}


def _checkpoint(exp_id: str, corpus: LabelledCorpus, trained: dict[str, Any]) -> tuple[Any, Path]:
    if exp_id in RENDERS and "timgm6mb" not in available_soundfonts():
        pytest.skip("the timgm6mb soundfont is not installed (the pretty_midi wheel ships it)")
    if exp_id not in trained:
        root: Path = trained["root"]
        exp = build_experiment(exp_id, tiny_config(exp_id, root / f"cache-{exp_id}"))
        ctx = RunContext(workdir=root / f"work-{exp_id}", seed=0)
        trained[exp_id] = (exp, train_checkpoint(exp, corpus, ctx, root / f"ckpt-{exp_id}"))
    return trained[exp_id]


@pytest.mark.parametrize("exp_id", sorted(EXPERIMENTS))
def test_train_load_predict(exp_id: str, corpus: LabelledCorpus, trained: dict[str, Any], tmp_path: Path) -> None:
    exp, out = _checkpoint(exp_id, corpus, trained)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {p.suffix for p in files} <= ALLOWED_SUFFIXES, sorted(p.name for p in files)
    for npz in out.rglob("*.npz"):
        with np.load(npz, allow_pickle=False) as z:  # raises if any member is a pickled object
            assert all(z[name].dtype != object for name in z.files)
    loaded, manifest = load_checkpoint(out, expected_experiment=exp_id)
    assert manifest["experiment"] == exp_id and type(loaded) is type(exp)
    segments = corpus.segments[:2]
    ctx = RunContext(workdir=tmp_path)
    fresh = loaded.predict(segments, ctx)
    again = exp.predict(segments, ctx)
    assert fresh.values.shape == (2, 19) and np.isfinite(fresh.values).all()
    assert ((fresh.values >= 0) & (fresh.values <= 1)).all()
    np.testing.assert_allclose(fresh.values, again.values, atol=1e-5)


@pytest.mark.parametrize("exp_id", sorted(EXPERIMENTS))
def test_edited_config_is_refused(exp_id: str, corpus: LabelledCorpus, trained: dict[str, Any]) -> None:
    _, out = _checkpoint(exp_id, corpus, trained)
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    key = WIDTH_KEY.get(exp_id, "hidden")
    original = manifest["config"][key]
    manifest["config"][key] = int(original) * 2 + 1
    manifest_path.write_text(json.dumps(manifest))
    try:
        with pytest.raises(PianoDataError) as err:
            load_checkpoint(out)
        assert str(out) in str(err.value) and "\n" not in str(err.value)
    finally:
        manifest["config"][key] = original
        manifest_path.write_text(json.dumps(manifest))


def test_train_s2_then_score_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from piano_eval.cli.main import main
    from piano_eval.practice.example import write_example

    example = write_example(tmp_path / "example")
    ckpt = tmp_path / "ckpt-s2"
    tiny = [
        "preset=tiny",
        "corpus_sources=[percepiano]",
        "pretrain_epochs=1",
        "finetune_epochs=1",
        "finetune=top",
        f"cache_dir={tmp_path / 'cache'}",
    ]
    sets = [arg for item in tiny for arg in ("--set", item)]
    assert main(["train", "s2", *sets, "--output", str(ckpt)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["checkpoint"] == str(ckpt)
    assert main(["score", str(example.performance), "--checkpoint", str(ckpt), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"]["experiment"] == "s2" and doc["windows"]
