"""Difficulty correlation: known answers, the ordinal model, the experiment hook, the CLI, and a real
Mikrokosmos run on a subset (skipped when the data is absent)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piano_data.difficulty import (
    DifficultyItem,
    load_mikrokosmos,
    mikrokosmos_splits,
    random_splits,
    restrict_splits,
)
from piano_data.midi import NoteArray, read_notes, write_notes
from piano_data.samples import Segment
from piano_eval.cli.main import main
from piano_eval.difficulty import (
    ClipToTrainRange,
    difficulty_for_experiment,
    evaluate_difficulty,
    evaluate_embeddings,
)
from piano_eval.errors import UsageError
from piano_eval.experiments.base import Experiment, RunContext
from piano_symbolic.features import FEATURE_NAMES


def _piece(path: Path, grade: int, rng: np.random.Generator) -> Path:
    """Harder pieces: more and faster notes over a wider range."""
    n = 8 + 6 * grade
    on = np.cumsum(rng.uniform(0.05, 0.6 / (1 + grade), n))
    pitch = 60 + rng.integers(-2 - 3 * grade, 3 + 3 * grade, n)
    return write_notes(NoteArray.from_arrays(on, on + 0.2, pitch, np.full(n, 64)), path)


@pytest.fixture()
def psyllabus(tmp_path: Path) -> tuple[Path, Path, list[DifficultyItem]]:
    rng = np.random.default_rng(0)
    grades = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 5]
    keys = [f"Composer{i} C.Piece {i}" for i in range(len(grades))]
    csv_path = tmp_path / "grades.csv"
    csv_path.write_text("piece_key,grade_0_10\n" + "".join(f"{k},{g}\n" for k, g in zip(keys, grades, strict=True)))
    items = []
    for key, g in zip(keys, grades, strict=True):
        path = _piece(tmp_path / "midi" / f"{key}.mid", g, rng)
        items.append(DifficultyItem(key, None, path, None, None, float(g), "psyllabus"))
    return csv_path, tmp_path / "midi", items


def _label_embed(items: Sequence[DifficultyItem], target: str):
    return lambda notes: np.array([[it.target(target)] for it in items])


def test_label_as_embedding_gives_perfect_rank_correlation(psyllabus: Any) -> None:
    _, _, items = psyllabus
    splits = random_splits([i.key for i in items], n_splits=6, seed=1)
    res = evaluate_difficulty(_label_embed(items, "grade"), items, splits, target="grade")
    assert res["spearman"] == pytest.approx(1.0) and res["kendall"] == pytest.approx(1.0)
    assert res["spearman_std"] == pytest.approx(0.0) and res["n_splits"] == 6 and res["n_items"] == 12
    assert res["accuracy"] is None and res["n_undefined"] == 0 and len(res["per_split"]) == 6
    # reversing the embedding reverses the ranking; noise destroys it
    flipped = evaluate_embeddings(-np.array([[i.grade] for i in items]), items, splits, "grade")
    assert flipped["spearman"] == pytest.approx(1.0)  # a linear fit flips the sign back


def test_three_class_accuracy_and_ordinal_model() -> None:
    items = [DifficultyItem(str(i), None, None, i % 3, 1 + i % 8) for i in range(30)]
    x = np.array([[float(i.label_3class)] for i in items])
    splits = random_splits([i.key for i in items], n_splits=5, test_fraction=0.3, seed=0)
    for model in ("ridge", "ordinal"):
        res = evaluate_embeddings(x, items, splits, "3class", model)  # type: ignore[arg-type]
        assert res["accuracy"] == pytest.approx(1.0), model
        assert res["spearman"] == pytest.approx(1.0) and res["model"] == model
    noise = np.random.default_rng(0).normal(size=(30, 4))
    res = evaluate_embeddings(noise, items, splits, "3class")
    assert abs(res["spearman"]) < 0.6  # no signal, no correlation (pinned loosely: 9 test items per split)


def test_test_embeddings_are_clipped_to_the_train_range() -> None:
    items = [DifficultyItem(str(i), None, None, None, 1 + i % 8) for i in range(24)]
    x = np.array([[float(i.henle)] for i in items])
    x[-1, 0] = 1000.0  # far outside anything seen in training
    keys = [i.key for i in items]
    res = evaluate_embeddings(x, items, [(keys[:20], keys[20:])], "henle")
    assert res["spearman"] == pytest.approx(1.0)  # ranks survive; the outlier is predicted as the top grade
    fitted = ClipToTrainRange().fit(np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert fitted.transform(np.array([[-5.0, 9.0]])).tolist() == [[0.0, 3.0]]


def test_bad_inputs(psyllabus: Any) -> None:
    _, _, items = psyllabus
    splits = [([i.key for i in items[:8]], [i.key for i in items[8:]])]
    with pytest.raises(ValueError, match=r"must be \[n_items=12, D\]"):
        evaluate_embeddings(np.zeros((3, 2)), items, splits, "grade")
    with pytest.raises(UsageError, match="no 'henle' label"):
        evaluate_embeddings(np.zeros((12, 2)), items, splits, "henle")
    with pytest.raises(UsageError, match="'nope' is not among the 12 items"):
        evaluate_embeddings(np.zeros((12, 2)), items, [(["nope", *splits[0][0]], splits[0][1])], "grade")
    with pytest.raises(UsageError, match="unknown difficulty model"):
        evaluate_embeddings(np.zeros((12, 2)), items, splits, "grade", "svm")  # type: ignore[arg-type]


class _Embedder(Experiment):
    """A stand-in experiment whose embedding is each segment's note count read back from its MIDI file."""

    id = "test-embedder"
    group = "baseline"

    def fit_predict(self, train, test, ctx, fold):
        raise NotImplementedError

    def embed(self, segments: Sequence[Segment], ctx: RunContext) -> np.ndarray:
        self.seen = list(segments)
        return np.array([[len(read_notes(s.midi_path))] for s in segments], dtype=np.float64)


class _NoEmbed(_Embedder):
    embed = None  # type: ignore[assignment]


def test_experiment_hook_on_midi_items(psyllabus: Any, tmp_path: Path) -> None:
    _, _, items = psyllabus
    exp = _Embedder()
    splits = random_splits([i.key for i in items], n_splits=4)
    res = difficulty_for_experiment(exp, RunContext(tmp_path / "w"), items=items, splits=splits, target="grade")
    assert res["experiment"] == "test-embedder" and res["spearman"] == pytest.approx(1.0)  # n notes rises with grade
    assert [s.midi_path for s in exp.seen] == [i.notes_path for i in items] and exp.seen[0].labels is None
    with pytest.raises(UsageError, match="has no embed"):
        difficulty_for_experiment(_NoEmbed(), RunContext(tmp_path), items=items, splits=splits)


def test_cli_on_psyllabus_fixture(psyllabus: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path, midi, _ = psyllabus
    out = tmp_path / "out"
    rc = main(
        [
            "difficulty",
            "--psyllabus-csv",
            str(csv_path),
            "--midi-folder",
            str(midi),
            "--n-splits",
            "5",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"spearman", "spearman_std", "kendall", "kendall_std", "n_splits", "n_items"} <= set(line)
    assert line["n_items"] == 12 and line["n_splits"] == 5 and line["target"] == "grade"
    assert line["experiment"] == "baseline-features" and line["spearman"] > 0.5
    doc = json.loads((out / "difficulty.json").read_text())
    assert doc["dataset"] == "psyllabus" and len(doc["per_split"]) == 5 and doc["kendall"] == line["kendall"]
    assert not list(out.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--psyllabus-csv", "x.csv"], "go together"),
        (["--target", "grade", "--data-root", "."], "not 'grade'"),
        (["--data-root", "/nonexistent-folder"], "holds no mikrokosmos_difficulty"),
    ],
)
def test_cli_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["difficulty", *argv]) == 2
    assert message in capsys.readouterr().err


# --- the real Mikrokosmos set: a subset of pieces and splits (the full run: benchmarks/difficulty.md) ---
def test_real_mikrokosmos_subset(data_root: Path, tmp_path: Path) -> None:
    root = data_root / "mikrokosmos_difficulty"
    if not root.is_dir():
        pytest.skip(f"mikrokosmos_difficulty is absent from {data_root}")
    items = load_mikrokosmos(root)[::5]  # 30 pieces across all three volumes pairs
    splits = restrict_splits(mikrokosmos_splits(root)[:3], [i.key for i in items])
    assert len(splits) == 3
    res = evaluate_difficulty(None, items, splits, target="henle")
    assert res["n_items"] == 30 and res["n_features"] == len(FEATURE_NAMES)
    assert res["spearman"] > 0.5 and res["kendall"] > 0.4  # note density and length track difficulty
    hook = difficulty_for_experiment(
        _Embedder(),
        RunContext(tmp_path),
        items=items[:12],
        splits=random_splits([i.key for i in items[:12]], 3),
        target="3class",
    )
    assert (tmp_path / "difficulty_midi" / "mikrokosmos_1.mid").is_file() and hook["accuracy"] is not None
