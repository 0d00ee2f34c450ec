"""The results document: read and validated in one place, seen through a typed record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from piano_data.errors import PianoDataError
from piano_eval.compare import comparison_table
from piano_eval.results import RESULTS_FORMAT, ResultsRecord, load_results
from piano_eval.selection import rows_from_results


def _doc(experiment: str = "a1", config: dict | None = None, weights: str = "None", variant: str | None = None) -> dict:
    return {
        "format": RESULTS_FORMAT, "experiment": experiment, "variant": variant, "group": "audio", "split": "piece4",
        "size": "quick", "dataset": {"name": "synthetic", "version": "v"},
        "summary": {"r2": 0.25, "r2_std": 0.05, "pairwise_accuracy": 0.61, "robustness": {"mean_drop": 0.2}},
        "folds": [{"fold": 0}, {"fold": 1}], "compute": {"cpu_hours": 0.5, "gpu_hours": 0.0},
        "config": {"id": experiment, "config": config if config is not None else {"muq": "auto"}},
        "provenance": {"options": {"muq_weights": weights}},
    }  # fmt: skip


def test_record_fields_and_label() -> None:
    r = ResultsRecord.from_doc(_doc(variant="lr=0.001"))
    assert (r.label, r.split, r.dataset, r.n_folds) == ("a1 (lr=0.001)", "piece4", "synthetic", 2)
    assert (r.r2, r.r2_std, r.pairwise_accuracy, r.robustness_drop) == (0.25, 0.05, 0.61, 0.2)
    assert r.r2_no_deadpan is None and r.cpu_hours == 0.5


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
    doc = _doc(config=config, weights=weights)
    assert ResultsRecord.from_doc(doc).tiny_muq is tiny
    assert rows_from_results([doc])[0].note == (" (tiny MuQ)" if tiny else "")


def test_load_results_validates(tmp_path: Path) -> None:
    good = tmp_path / "run" / "results.json"
    good.parent.mkdir()
    good.write_text(json.dumps(_doc()))
    doc = load_results(good.parent)
    assert doc["results_path"] == str(good)
    assert "| a1 | piece4 | synthetic | 2 | 0.250 ± 0.050 |" in comparison_table([doc])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**_doc(), "format": 0}))
    with pytest.raises(PianoDataError, match="results format 0"):
        load_results(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(PianoDataError, match="not a JSON object"):
        load_results(bad)
