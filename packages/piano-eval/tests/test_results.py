"""The results document: one typed record, written and read in one place."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from piano_data.contracts import DIMENSIONS
from piano_data.errors import PianoDataError
from piano_eval.compare import comparison_table
from piano_eval.datasets import load_labelled
from piano_eval.experiments.base import RunContext
from piano_eval.experiments.registry import build_experiment
from piano_eval.results import RESULTS_FORMAT, ResultsRecord, load_results, save_results
from piano_eval.runner import run_cv
from piano_eval.selection import rows_from_results


def _doc(experiment: str = "a1", config: dict | None = None, weights: str = "None", variant: str | None = None) -> dict:
    """A short document as older tests wrote them: fields it lacks take their defaults."""
    return {
        "format": RESULTS_FORMAT, "experiment": experiment, "variant": variant, "group": "audio", "split": "piece4",
        "size": "quick", "dataset": {"name": "synthetic", "version": "v"},
        "summary": {"r2": 0.25, "r2_std": 0.05, "pairwise_accuracy": 0.61, "robustness": {"mean_drop": 0.2}},
        "folds": [{"fold": 0}, {"fold": 1}], "compute": {"cpu_hours": 0.5, "gpu_hours": 0.0},
        "config": {"id": experiment, "config": config if config is not None else {"muq": "auto"}},
        "provenance": {"options": {"muq_weights": weights}},
    }  # fmt: skip


def _record(**kw: object) -> ResultsRecord:
    return ResultsRecord.from_json(_doc(**kw))  # type: ignore[arg-type]


def test_record_fields_and_label() -> None:
    r = _record(variant="lr=0.001")
    assert (r.label, r.split, r.dataset.name, len(r.folds)) == ("a1 (lr=0.001)", "piece4", "synthetic", 2)
    assert (r.summary.r2, r.summary.r2_std, r.summary.pairwise_accuracy, r.robustness_drop) == (0.25, 0.05, 0.61, 0.2)
    assert r.summary.r2_no_deadpan is None and r.compute.cpu_hours == 0.5 and r.folds[1].keys == []


@pytest.mark.parametrize(
    ("config", "weights", "tiny"),
    [
        ({"muq": "auto"}, "None", True),  # auto without weights builds the tiny random model
        ({"muq": "auto"}, "/models/muq", False),
        ({"muq": "tiny"}, "None", True),
        ({"muq": "large"}, "None", False),
        ({"soundfont": "tiny-sf", "preset": "tiny"}, "None", False),  # 'tiny' elsewhere in the config is no MuQ
    ],
)
def test_tiny_muq_from_fields_not_text(config: dict, weights: str, tiny: bool) -> None:
    record = _record(config=config, weights=weights)
    assert record.tiny_muq is tiny
    assert rows_from_results([record])[0].note == (" (tiny MuQ)" if tiny else "")


def test_round_trip_of_a_real_run(tmp_path: Path) -> None:
    """run_cv writes, load_results reads: the same record, and the file keeps the layout readers know."""
    dataset = load_labelled(None)
    experiment = build_experiment("baseline-features", {"model": "ridge"})
    written = run_cv(experiment, dataset, "piece4", RunContext(workdir=tmp_path / "w"), folds=[0, 1], out_dir=tmp_path)
    assert written.results_path == str(tmp_path / "results.json")
    back = load_results(tmp_path)
    assert back == written
    raw = json.loads((tmp_path / "results.json").read_text())
    assert raw == written.to_json() and "results_path" not in raw
    assert list(raw)[:3] == ["format", "experiment", "variant"]
    first = DIMENSIONS[0]
    assert raw["summary"]["per_dimension"][first]["r2"] == back.summary.per_dimension[first].r2
    assert [f["fold"] for f in raw["folds"]] == [0, 1] and len(back.folds[0].predictions[0]) == 19
    again = save_results(replace(back, variant="again"), tmp_path / "copy" / "results.json")
    assert load_results(tmp_path / "copy").variant == "again" and again.results_path is not None


def test_short_and_older_documents_load(tmp_path: Path) -> None:
    good = tmp_path / "run" / "results.json"
    good.parent.mkdir()
    good.write_text(json.dumps({**_doc(), "results_path": "elsewhere"}))
    record = load_results(good.parent)
    assert record.results_path == str(good)
    assert "| a1 | piece4 | synthetic | 2 | 0.250 ± 0.050 |" in comparison_table([record])
    assert record.summary.robustness is not None and record.summary.robustness.per_augmentation == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (json.dumps({**_doc(), "format": 0}), "results format 0 is not 1"),
        ("[1, 2]", "not a JSON object"),
        ("{", "not a valid results file"),
        (json.dumps({k: v for k, v in _doc().items() if k != "split"}), "no 'split'"),
        (json.dumps({**_doc(), "summary": {"r2": "high"}}), "summary.r2: expected a number"),
        (json.dumps({**_doc(), "folds": [{"fold": 0, "keys": "a"}]}), r"folds\[0\].keys: expected a list"),
        (json.dumps({**_doc(), "dataset": {"version": "v"}}), "no 'dataset.name'"),
        (json.dumps({**_doc(), "summary": {"per_dimension": {"x": {"r2": None, "pairwise_accuracy": True}}}}),
         "summary.per_dimension.x.pairwise_accuracy: expected a number"),
    ],
)  # fmt: skip
def test_malformed_document_is_one_line_error_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    with pytest.raises(PianoDataError, match=problem) as err:
        load_results(bad)
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)
    with pytest.raises(PianoDataError, match="results file not found"):
        load_results(tmp_path / "missing")
