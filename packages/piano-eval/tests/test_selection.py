from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from piano_eval import metrics
from piano_eval.cli.main import main
from piano_eval.selection import Row, group_tables, select_winner


def _row(name: str, pw: float, r2: float, drop: float | None = None, table: str = "audio") -> Row:
    return Row(name, table, "piece4", r2, 0.01, pw, None, drop, 0.0, 0.0)


def test_winner_highest_pairwise() -> None:
    assert select_winner([_row("a", 0.70, 0.5), _row("b", 0.75, 0.3)]).experiment == "b"  # type: ignore[union-attr]


def test_r2_breaks_ties() -> None:
    rows = [_row("a", 0.7501, 0.30), _row("b", 0.7499, 0.45)]
    assert select_winner(rows).experiment == "b"  # type: ignore[union-attr]


def test_robustness_veto() -> None:
    rows = [
        _row("fragile", 0.80, 0.6, drop=0.16),
        _row("robust", 0.72, 0.4, drop=0.05),
        _row("sym", 0.7, 0.5),
    ]
    assert select_winner(rows).experiment == "robust"  # type: ignore[union-attr]
    assert rows[0].vetoed and not rows[1].vetoed and not rows[2].vetoed
    assert select_winner([_row("x", 0.8, 0.5, drop=0.2)]) is None
    table = group_tables(rows)
    assert "-16.0% (veto)" in table and "disqualified by the robustness veto" in table
    assert "**Winner (audio, piece4):** robust" in table


def test_robustness_metric_hand_case() -> None:
    y = np.array([[0.1], [0.5], [0.9]])
    groups = ["a", "a", "a"]
    clean = np.array([[0.1], [0.5], [0.9]])  # all 3 pairs right
    noisy = np.array([[0.5], [0.1], [0.9]])  # pair (0,1) wrong: 2/3
    out = metrics.robustness(y, clean, {"noise": noisy, "same": clean}, groups)
    assert out["pairwise_clean"] == 1.0
    assert out["per_augmentation"]["noise"]["pairwise_accuracy"] == pytest.approx(2 / 3)
    assert out["per_augmentation"]["noise"]["drop"] == pytest.approx(1 / 3)
    assert out["per_augmentation"]["same"]["pearson_clean_vs_augmented"] == pytest.approx(1.0)
    assert out["mean_drop"] == pytest.approx(1 / 6) and out["max_drop"] == pytest.approx(1 / 3)


def test_compare_tables_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res"
    for model in ("ridge", "mlp"):
        assert (
            main(
                [
                    "run",
                    "baseline-features",
                    "--set",
                    f"model={model}",
                    "--set",
                    "ensemble=1",
                    "--out",
                    str(out / model),
                ]
            )
            == 0
        )
    capsys.readouterr()
    paths = [str(p) for p in sorted(out.rglob("results.json"))]
    diff = tmp_path / "difficulty.json"
    diff.write_text(json.dumps({"experiment": "baseline-features", "spearman": 0.61}))
    md = tmp_path / "table.md"
    assert (
        main(
            [
                "compare",
                *paths,
                "--difficulty",
                str(diff),
                "--output",
                str(md),
                "--plots",
                str(tmp_path / "plots"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "### Symbolic experiments (piece4 split)" in text and "0.610" in text and "**Winner (symbolic" in text
    assert md.read_text().strip() in text
    assert "| R^2 within work |" in text
    doc = json.loads(Path(paths[0]).read_text())
    assert "r2_within_work" in doc["summary"] and "r2_within_work" in doc["folds"][0]
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert "per_dimension_r2.png" in pngs and any(p.startswith("scatter-") for p in pngs)
