"""baseline-features checkpoints hold plain arrays + JSON: same predictions, no unpickling, one-line errors."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from piano_data.errors import PianoDataError
from piano_eval.cli.main import main
from piano_eval.model_arrays import ArrayRegressor, from_pipeline, load_models, save_models
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _data(n: int = 60, f: int = 7, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, f)) * rng.uniform(0.5, 5, size=f) + rng.normal(size=f)
    y = np.tanh(x @ rng.normal(size=(f, d)) * 0.3)
    return x, y


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_numpy_forward_pass_matches_sklearn(activation: str) -> None:
    x, y = _data()
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 6))).fit(x, y)
    mlp = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(9, 5), activation=activation, max_iter=50, random_state=0)
    )
    with pytest.warns(Warning):  # 50 iterations do not converge; the weights are what matters here
        mlp.fit(x, y)
    for pipe in (ridge, mlp):
        arrays = from_pipeline(pipe)
        np.testing.assert_allclose(arrays.predict(x), pipe.predict(x), rtol=1e-10, atol=1e-12)


def test_save_load_round_trip_without_pickle(tmp_path: Path) -> None:
    x, y = _data()
    model = from_pipeline(make_pipeline(StandardScaler(), RidgeCV()).fit(x, y))
    save_models(tmp_path, "m", [model, model], {"train_range": np.percentile(x, [1, 99], axis=0)})
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:  # every entry is a plain array
        assert all(npz[k].dtype != object for k in npz.files)
    models, extra = load_models(tmp_path, "m", n_features=7)
    assert len(models) == 2 and extra["train_range"].shape == (2, 7)
    np.testing.assert_array_equal(models[1].predict(x), model.predict(x))
    assert not list(tmp_path.glob("*.tmp"))


def _saved(tmp_path: Path) -> Path:
    x, y = _data()
    save_models(tmp_path, "m", [from_pipeline(make_pipeline(StandardScaler(), RidgeCV()).fit(x, y))])
    return tmp_path


def _rehash(directory: Path) -> None:
    manifest = json.loads((directory / "m.json").read_text())
    manifest["sha256"] = hashlib.sha256((directory / "m.npz").read_bytes()).hexdigest()
    (directory / "m.json").write_text(json.dumps(manifest))


def test_tampered_arrays_are_refused(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    blob = bytearray((d / "m.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (d / "m.npz").write_bytes(bytes(blob))
    with pytest.raises(PianoDataError, match=r"m\.npz: .*sha256 differs"):
        load_models(d, "m", 7)


def test_pickled_object_array_is_never_unpickled(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    with np.load(d / "m.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["m0_mean"] = np.array([object()] * 7, dtype=object)  # what a malicious pickle payload would ride in
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (d / "m.npz").write_bytes(buf.getvalue())
    _rehash(d)  # a forger can fix the hash; the loader must still refuse to unpickle
    with pytest.raises(PianoDataError, match=r"m\.npz: unreadable checkpoint arrays .*allow_pickle"):
        load_models(d, "m", 7)


def test_mismatched_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    good_manifest = (d / "m.json").read_text()
    with pytest.raises(PianoDataError, match=r"m\.npz: checkpoint does not fit this model .*scaler expects"):
        load_models(d, "m", 33)
    manifest = json.loads((d / "m.json").read_text())
    manifest["models"][0]["layers"] = 2  # claims a second layer the arrays do not hold
    (d / "m.json").write_text(json.dumps(manifest))
    with pytest.raises(PianoDataError, match=r"does not fit this model"):
        load_models(d, "m", 7)
    (d / "m.json").write_text("[1, 2")
    with pytest.raises(PianoDataError, match=r"m\.json: not valid JSON"):
        load_models(d, "m", 7)
    (d / "m.json").write_text(good_manifest)
    (d / "m.npz").unlink()
    with pytest.raises(PianoDataError, match=r"m\.npz: checkpoint file missing"):
        load_models(d, "m", 7)
    with zipfile.ZipFile(d / "m.npz", "w") as z:
        z.writestr("m0_mean.npy", b"garbage")
    _rehash(d)
    with pytest.raises(PianoDataError, match=r"m\.npz: unreadable checkpoint arrays"):
        load_models(d, "m", 7)


def test_array_regressor_is_frozen() -> None:
    m = ArrayRegressor("ridge", np.zeros(2), np.ones(2), (np.eye(2),), (np.zeros(2),))
    np.testing.assert_array_equal(m.predict(np.array([[1.0, 2.0]])), [[1.0, 2.0]])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "features"
    assert main(["--quiet", "train", "baseline-features", "--set", "ensemble=2", "--output", str(out)]) == 0
    return out


def test_feature_checkpoint_has_no_pickle_and_scores(checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus

    assert sorted(p.name for p in checkpoint.iterdir()) == [
        "checkpoint.json",
        "features_models.json",
        "features_models.npz",
    ]
    seg = next(s for s in make_synthetic_corpus(SyntheticConfig()) if not s.is_deadpan)
    capsys.readouterr()
    assert main(["score", str(seg.midi_path), "--checkpoint", str(checkpoint), "--format", "json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), dict)  # its layout belongs to cli/score


def test_tampered_feature_checkpoint_exits_2_with_one_line(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus

    bad = tmp_path / "bad"
    shutil.copytree(checkpoint, bad)
    blob = bytearray((bad / "features_models.npz").read_bytes())
    blob[100] ^= 0x55
    (bad / "features_models.npz").write_bytes(bytes(blob))
    seg = next(s for s in make_synthetic_corpus(SyntheticConfig()) if not s.is_deadpan)
    capsys.readouterr()
    assert main(["score", str(seg.midi_path), "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "features_models.npz" in err[0] and "sha256 differs" in err[0]
