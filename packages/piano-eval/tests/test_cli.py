from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from piano_data.percepiano import LABEL_FILE
from piano_eval.cli.main import main


def _results(out: Path) -> list[Path]:
    return list(out.rglob("results.json")) if out.exists() else []


def test_run_and_compare_on_embedded_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res"
    assert main(["run", "baseline-features", "--set", "model=ridge", "--out", str(out)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("experiment", "split", "r2", "r2_std", "pairwise_accuracy", "results_path"):
        assert key in line
    assert line["experiment"] == "baseline-features" and line["split"] == "piece4"
    assert line["r2"] > 0.5  # the synthetic labels are functions of what the features measure
    doc = json.loads(Path(line["results_path"]).read_text())
    assert len(doc["folds"]) == 4 and len(doc["folds"][0]["r2_per_dim"]) == 19
    assert doc["provenance"]["machine"]["cpu_count"] >= 1 and doc["compute"]["wall_s"] > 0
    assert main(["compare", line["results_path"]]) == 0
    table = capsys.readouterr().out
    assert "| baseline-features (model=ridge) | piece4 | synthetic | 4 |" in table


def test_data_summary_real(data_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not (data_root / "percepiano").is_dir():
        pytest.skip("PercePiano absent")
    assert main(["data", "summary", "--data-root", str(data_root)]) == 0
    info = json.loads(capsys.readouterr().out)["percepiano"]
    assert (info["segments"], info["dimensions"], info["piece_groups"], info["passage_groups"], info["n_works"]) == (
        1202, 19, 22, 99, 4
    )  # fmt: skip


def _fake_root(src: Path, dst: Path) -> Path:
    """A two-key PercePiano copy under dst/percepiano."""
    root = dst / "percepiano"
    keys = ["Beethoven_WoO80_thema_8bars_11_1", "Beethoven_WoO80_thema_8bars_14_1"]
    raw = json.loads((src / LABEL_FILE).read_text())
    (root / "midi" / "all_2rounds").mkdir(parents=True)
    (root / "midi" / "score_midi").mkdir(parents=True)
    (root / "labels_root").mkdir()
    (root / LABEL_FILE).write_text(json.dumps({k: raw[k] for k in keys}))
    for k in keys:
        shutil.copy(src / "midi" / "all_2rounds" / f"{k}.mid", root / "midi" / "all_2rounds")
    shutil.copy(src / "midi" / "score_midi" / "Beethoven_WoO80_thema_8bars_Score_1.mid", root / "midi" / "score_midi")
    return root


@pytest.mark.parametrize("problem", ["corrupt", "empty", "mismatch", "no-dataset"])
def test_bad_input_exit_2_no_results(
    problem: str, data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _fake_root(data_root / "percepiano", tmp_path / "data")
    target = root / "midi" / "all_2rounds" / "Beethoven_WoO80_thema_8bars_11_1.mid"
    expected = {
        "corrupt": "Beethoven_WoO80_thema_8bars_11_1.mid: not a readable MIDI file",
        "empty": "Beethoven_WoO80_thema_8bars_11_1.mid: MIDI file is empty",
        "mismatch": "labels and MIDI files do not match",
        "no-dataset": "no PercePiano dataset here",
    }[problem]
    data_arg = tmp_path / "data"
    if problem == "corrupt":
        target.write_text("garbage")
    elif problem == "empty":
        target.write_bytes(b"")
    elif problem == "mismatch":
        target.unlink()
    else:
        data_arg = tmp_path / "elsewhere"
        data_arg.mkdir()
    out = tmp_path / "res"
    code = main(["run", "baseline-features", "--data-root", str(data_arg), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1, err
    assert _results(out) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "nope"], "unknown experiment 'nope'"),
        (["run", "baseline-features", "--split", "nope"], "unknown split 'nope'"),
        (["run", "baseline-features", "--set", "typo=1"], "unknown preset key(s) typo"),
        (["compare", "/nonexistent/results.json"], "results file not found"),
    ],
)
def test_usage_errors(args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, *(["--out", str(tmp_path)] if args[0] == "run" else [])]) == 2
    assert expected in capsys.readouterr().err
    assert _results(tmp_path) == []
