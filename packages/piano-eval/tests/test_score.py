"""``piano-eval score`` as a practice tool: default model, bars, windows, formats, bad input, start-up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from piano_eval.cli.main import COMMAND_TABLE, main
from piano_eval.practice.example import Example, write_example

PY = sys.executable


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return write_example(tmp_path_factory.mktemp("example"))


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> dict:
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


def _flagged(doc: dict) -> dict[str, dict]:
    return {b["bar"]: b for b in doc["bars"] if b["flagged"]}


# --- start-up ---------------------------------------------------------------------------------------------


def test_parser_and_help_do_not_import_torch() -> None:
    code = "import sys, piano_eval.cli.main as m; m.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
    code = (
        "import sys, contextlib, io, piano_eval.cli.main as m\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()): m.main(['--help'])\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('torch', 'numba', 'sklearn', 'matplotlib')))"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_score_with_default_model_does_not_import_torch(example: Example) -> None:
    code = (
        "import sys, contextlib, io, piano_eval.cli.main as m\n"
        f"args = ['score', {str(example.performance)!r}, '--score', {str(example.score)!r}, '--format', 'json']\n"
        "with contextlib.redirect_stdout(io.StringIO()): rc = m.main(args)\n"
        "print(rc, 'torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "0 False False"


def test_align_and_data_summary_do_not_import_torch(example: Example, tmp_path: Path) -> None:
    out = tmp_path / "map.csv"
    code = (
        "import sys, contextlib, io, piano_eval.cli.main as m\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    a = m.main(['align', {str(example.performance)!r}, {str(example.score)!r}, '--output', {str(out)!r}])\n"
        "    b = m.main(['data', 'summary'])\n"
        "print(a, b, 'torch' in sys.modules, 'lightning' in sys.modules)"
    )
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert res == "0 0 False False" and out.is_file()


def test_help_lines_match_the_commands() -> None:
    import argparse
    import importlib

    for name, (module, help_line) in COMMAND_TABLE.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        actions = {a.dest: a.help for a in sub._choices_actions}
        assert actions[name] == help_line, name


# --- the default model ------------------------------------------------------------------------------------


def test_default_model_loads_without_pickle() -> None:
    from piano_data.contracts import DIMENSIONS
    from piano_eval.practice.model import DEFAULT_MODEL_DIR, WEIGHTS_FILE, load_feature_model
    from piano_symbolic.features import FEATURE_NAMES, FEATURE_VERSION

    with np.load(DEFAULT_MODEL_DIR / WEIGHTS_FILE, allow_pickle=False) as z:  # raises if anything is pickled
        assert all(z[k].dtype == np.float64 for k in z.files)
    model = load_feature_model()
    assert model.feature_names == tuple(FEATURE_NAMES)
    assert model.coef.shape == (len(FEATURE_NAMES), len(DIMENSIONS))
    card = model.card
    assert card["training"]["n_segments"] > 1000 and "PercePiano" in card["training"]["data"]
    for key in (
        "r2",
        "r2_no_deadpan",
        "pairwise_accuracy",
        "within_work_spearman",
        "r2_within_work",
        "r2_work_held_out",
    ):
        assert isinstance(card["metrics"][key], float), key
    assert card["feature_version"].startswith(f"{FEATURE_VERSION}-{len(FEATURE_NAMES)}-") and card["commit"]
    pred = model.predict(np.tile(model.mean, (2, 1)))
    assert pred.shape == (2, 19) and np.allclose(pred, np.clip(model.intercept, 0, 1))


def test_model_build_is_byte_identical(tmp_path: Path) -> None:
    from piano_eval.practice.build_model import fit_ridge, predict
    from piano_eval.practice.model import write_npz_deterministic

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 5)), rng.uniform(size=(60, 19))
    a = write_npz_deterministic(tmp_path / "a.npz", fit_ridge(x, y, 3.0))
    b = write_npz_deterministic(tmp_path / "b.npz", fit_ridge(x.copy(), y.copy(), 3.0))
    assert a.read_bytes() == b.read_bytes()
    arrays = fit_ridge(x, y, 0.0)  # no penalty: least squares on the standardised features
    z = (x - x.mean(0)) / x.std(0)
    ls = np.linalg.lstsq(np.c_[z, np.ones(len(z))], y, rcond=None)[0]
    assert np.allclose(arrays["coef"], ls[:-1]) and np.allclose(arrays["intercept"], ls[-1])
    assert np.all((predict(arrays, x) >= 0) & (predict(arrays, x) <= 1))
    assert [p.name for p in tmp_path.iterdir()] and not list(tmp_path.glob(".*.tmp"))


def test_bad_model_folder_is_one_line_error(tmp_path: Path) -> None:
    from piano_data.errors import PianoDataError
    from piano_eval.practice.model import DEFAULT_MODEL_DIR, load_feature_model

    shutil.copytree(DEFAULT_MODEL_DIR, tmp_path / "m")
    (tmp_path / "m" / "weights.npz").write_bytes(b"PK garbage")
    with pytest.raises(PianoDataError, match=r"weights\.npz: not readable model weights"):
        load_feature_model(tmp_path / "m")


def test_models_command(capsys: pytest.CaptureFixture[str]) -> None:
    models = _json(capsys, ["models", "--format", "json"])
    assert models[0]["name"] == "default" and "r2" in models[0]["metrics"]
    assert main(["models"]) == 0
    assert "cross-validated" in capsys.readouterr().out


# --- the bundled example: bars, windows, formats ----------------------------------------------------------


def test_example_bar_feedback_and_windows(example: Example, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["score", str(example.performance), "--score", str(example.score), "--format", "json"])
    flagged = _flagged(doc)
    assert set(flagged) == {"5", "9", "12"}
    assert flagged["5"]["wrong"] == [{"expected": "E5", "played": "F5"}]
    assert flagged["9"]["missed"] == ["E3"] and flagged["12"]["extra"] == ["G#4"]
    bars = {b["bar"]: b for b in doc["bars"]}
    assert all(b["played"] for b in doc["bars"]) and len(bars) == 16
    assert bars["14"]["tempo_vs_piece"] > 1.15 and any("rushing" in r for r in bars["14"]["remarks"])
    assert 0.9 < bars["3"]["tempo_ratio"] < 1.1  # played at about the score's tempo
    starts = [b["start_s"] for b in doc["bars"]]
    assert starts == sorted(starts) and starts[0] == pytest.approx(0.5, abs=0.1)
    assert [w["bars"] for w in doc["windows"]] == [["1", "8"], ["9", "16"]]
    assert set(doc["departing_bars"]) >= {"5", "9", "12", "14", "15"}
    assert set(doc["overall"]["dimensions"]) == set(doc["windows"][0]["dimensions"]) and doc["trusted_alignment"]
    text_code = main(["score", str(example.performance), "--score", str(example.score)])
    text = capsys.readouterr().out
    assert text_code == 0 and "wrong F5 for E5" in text and "Bars that depart most" in text


def test_json_follows_the_shipped_schema(example: Example, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the test group")
    from piano_eval.practice.render import load_schema

    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for argv in (
        ["score", str(example.performance), "--score", str(example.score), "--format", "json"],
        ["score", str(example.performance), "--format", "json"],  # no score: time windows, no bars
    ):
        doc = _json(capsys, argv)
        jsonschema.validate(doc, schema)
    assert doc["bars"] == [] and all(w["bars"] is None for w in doc["windows"])
    bad = dict(doc, overall={"dimensions": {"x": 2.0}, "spread": None, "n_windows": 1})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_window_bars_option(example: Example, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["score", str(example.performance), "--score", str(example.score), "--format", "json"]
    doc = _json(capsys, [*argv, "--window-bars", "4"])
    assert [w["bars"] for w in doc["windows"]] == [["1", "4"], ["5", "8"], ["9", "12"], ["13", "16"]]
    doc = _json(capsys, [*argv, "--window-bars", "6"])  # 6 + 6 + 4: the short tail (4 >= 3) stays a window
    assert [w["bars"] for w in doc["windows"]] == [["1", "6"], ["7", "12"], ["13", "16"]]


def test_musicxml_score_end_to_end(example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = example.score_musicxml  # the same score written as MusicXML, read through partitura
    assert xml.read_text().startswith("<?xml")
    doc = _json(capsys, ["score", str(example.performance), "--score", str(xml), "--format", "json"])
    assert doc["score"] == str(xml) and len(doc["bars"]) == 16
    assert set(_flagged(doc)) == {"5", "9", "12"}
    assert _flagged(doc)["5"]["wrong"] == [{"expected": "E5", "played": "F5"}]


def test_html_report_is_self_contained(example: Example, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    plot = tmp_path / "p.png"
    argv = ["score", str(example.performance), "--score", str(example.score), "--format", "html"]
    assert main([*argv, "--output", str(out), "--plot", str(plot)]) == 0
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 3  # profile, windows, bars
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "wrong F5 for E5" in page and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png", "r.html"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_html_report_renders_in_headless_browser(example: Example, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium/chrome on this machine (the browser check needs one)")
    out = tmp_path / "r.html"
    assert main(["score", str(example.performance), "--score", str(example.score), "--format", "html", "--output",
                 str(out)]) == 0  # fmt: skip
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
           "--window-size=1100,1600", out.as_uri()]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    from matplotlib.image import imread

    img = imread(str(shot))
    assert img.shape[0] == 1600 and img.shape[1] == 1100
    ink = (img[..., :3].mean(axis=2) < 0.8).mean()  # share of non-white pixels: text and figures drawn
    assert 0.02 < ink < 0.9


# --- bad input ----------------------------------------------------------------------------------------------


def test_unreadable_and_missing_files(example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd garbage")
    cases = [
        (["score", str(example.performance), "--score", str(bad)], "bad.mid: not a readable MIDI file"),
        (["score", str(example.performance), "--score", str(tmp_path / "nope.musicxml")], "score file not found"),
        (["score", str(example.performance), "--score", str(example.performance.with_suffix(".pdf"))], "not found"),
        (["score", str(bad), "--score", str(example.score)], "bad.mid: not a readable MIDI file"),
        (["score", str(tmp_path / "x.txt")], "x.txt: file not found"),
        (["score", str(example.performance), "--checkpoint", str(tmp_path)], "not a piano-eval checkpoint"),
    ]
    for argv, message in cases:
        assert main([*argv, "--format", "json", "--output", str(out)]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("piano-eval score: error:") and message in err and err.count("\n") == 1
    (tmp_path / "s.txt").write_text("x")
    assert main(["score", str(example.performance), "--score", str(tmp_path / "s.txt")]) == 2
    assert "unsupported score type '.txt'" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_score_of_another_piece(example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from piano_data.midi import NoteArray, write_notes

    rng = np.random.default_rng(1)
    onset = np.sort(rng.uniform(0, 30, 200))
    other = write_notes(
        NoteArray.from_arrays(onset, onset + 0.3, rng.integers(30, 90, 200), np.full(200, 70)), tmp_path / "o.mid"
    )
    out = tmp_path / "o.json"
    assert main(["score", str(other), "--score", str(example.score), "--format", "json", "--output", str(out)]) == 3
    assert "does not follow the score" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["bars"] == [] and not doc["trusted_alignment"]
    assert any("right score" in n for n in doc["notes"]) and doc["overall"]["n_windows"] >= 1


def test_partial_run_through(example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from piano_data.midi import read_notes, write_notes
    from piano_eval.practice.analysis import _subset

    notes = read_notes(example.performance)
    full = _json(capsys, ["score", str(example.performance), "--score", str(example.score), "--format", "json"])
    bar9 = next(b["start_s"] for b in full["bars"] if b["bar"] == "9")
    half = write_notes(_subset(notes, notes.onset < bar9 - 0.05), tmp_path / "half.mid")  # bars 1-8
    doc = _json(capsys, ["score", str(half), "--score", str(example.score), "--format", "json"])
    played = [b["bar"] for b in doc["bars"] if b["played"]]
    assert played[0] == "1" and 7 <= len(played) <= 9
    assert all(b["start_s"] is None and not b["flagged"] for b in doc["bars"] if not b["played"])
    assert any("partial run-through" in n for n in doc["notes"]) and "5" in _flagged(doc)
    # (today the aligner may still place the very last chord of the take in a later bar with the same harmony,
    # so bar 8 can show it as missed; nothing past the played bars is reported)
    assert set(_flagged(doc)) <= {"5", "8"}


def test_empty_performance(tmp_path: Path, example: Example, capsys: pytest.CaptureFixture[str]) -> None:
    import symusic

    empty = tmp_path / "empty.mid"
    s = symusic.Score(480)
    s.tracks.append(symusic.Track(name="piano", program=0))
    s.dump_midi(str(empty))
    assert main(["score", str(empty), "--score", str(example.score)]) == 2
    assert "no piano notes" in capsys.readouterr().err


def test_checkpoint_overrides_the_default(example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    ckpt = tmp_path / "ckpt"
    assert main(["train", "baseline-features", "--set", "model=ridge", "--output", str(ckpt)]) == 0
    capsys.readouterr()
    argv = ["score", str(example.performance), "--score", str(example.score), "--format", "json"]
    doc = _json(capsys, [*argv, "--checkpoint", str(ckpt)])
    assert "baseline-features checkpoint" in doc["model"]["name"] and doc["model"]["experiment"] == "baseline-features"
    assert set(_flagged(doc)) == {"5", "9", "12"} and len(doc["windows"]) == 2


# --- real data ------------------------------------------------------------------------------------------------


def test_real_asap_performance(data_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = data_root / "asap" / "Bach" / "Fugue" / "bwv_848"
    perf, score, xml = folder / "Denisova06M.mid", folder / "midi_score.mid", folder / "xml_score.musicxml"
    if not perf.is_file():
        pytest.skip("ASAP Bach/Fugue/bwv_848 absent")
    doc = _json(capsys, ["score", str(perf), "--score", str(score), "--format", "json"])
    assert doc["trusted_alignment"] and len(doc["bars"]) >= 50 and all(b["played"] for b in doc["bars"])
    assert len(doc["windows"]) >= 6 and all(w["dimensions"] for w in doc["windows"])
    flagged = sum(b["flagged"] for b in doc["bars"])
    assert flagged < len(doc["bars"]) / 3
    if xml.is_file():
        doc_xml = _json(capsys, ["score", str(perf), "--score", str(xml), "--format", "json"])
        assert doc_xml["trusted_alignment"] and doc_xml["bars"][0]["bar"] == doc["bars"][0]["bar"]


def test_restart_shows_as_such(example: Example) -> None:
    """A take abandoned at bar 7 and restarted from bar 5: the restart is reported, the abandoned notes are not
    counted as extra, and bars 5-7 get the feedback of the take that continues. The alignment is given (ground
    truth, as the aligner reports a restart: the map follows the take that continues, the abandoned notes stay
    unmatched), so this checks the report, not the aligner."""
    from piano_data.midi import NoteArray
    from piano_data.score import read_score
    from piano_eval.practice.analysis import analyse
    from piano_eval.practice.model import load_feature_model
    from piano_eval.practice.scorers import FeatureModelScorer
    from piano_symbolic.align.types import Alignment, NoteMatches, Restart, TimeMap

    score = read_score(example.score)
    s_on = score.notes.onset
    bar = score.bar_index(s_on)
    take1 = np.flatnonzero(bar < 7)  # bars 1-7 (0-based 0-6), then the player stops
    take2 = np.flatnonzero(bar >= 4)  # from bar 5 to the end
    restart_at = s_on[take1].max() + 2.0 - s_on[take2].min()  # performance time of take 2 minus its score time
    onset = np.concatenate([s_on[take1] + 1.0, s_on[take2] + restart_at])
    n1 = len(take1)
    perf = NoteArray(
        onset,
        onset + 0.2,
        np.concatenate([score.notes.pitch[take1], score.notes.pitch[take2]]),
        np.full(len(onset), 64),
    )
    kept1 = take1[bar[take1] < 4]  # take 1's bars 1-4 are what the map follows before the restart
    pairs = np.r_[np.c_[kept1, np.arange(len(kept1))], np.c_[take2, n1 + np.arange(len(take2))]]
    tmap = TimeMap.from_pairs(s_on[pairs[:, 0]], onset[pairs[:, 1]])
    aln = Alignment(
        tmap,
        NoteMatches.from_pairs(pairs, len(s_on), len(perf)),
        1.0,
        "ground truth",
        ("restart",),
        restarts=(Restart(float(s_on[take2].min() + restart_at), float(score.bar_times[4])),),
    )
    model = load_feature_model()
    report = analyse(perf, score, FeatureModelScorer(model), alignment=aln)
    assert report.restarts == [
        {"performance_s": pytest.approx(s_on[take2].min() + restart_at, abs=1e-3), "to_bar": "5"}
    ]
    assert any("restart at" in n for n in report.notes)
    assert [b.number for b in report.bars if b.flagged] == []  # abandoned bars 5-7 of take 1: not extra notes
    b6 = report.bars[5]
    assert b6.start_s == pytest.approx(float(score.bar_times[5]) + restart_at, abs=1e-3)
    assert all(b.played for b in report.bars) and len(report.scored_windows) == 2


def test_audio_that_transcribes_to_nothing(
    example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from piano_data.midi import NoteArray

    calls = []

    def transcribe(path: Path) -> NoteArray:  # stands in for transkun: silence in, no notes out
        calls.append(path)
        return NoteArray.from_arrays(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), source=str(path))

    monkeypatch.setitem(sys.modules, "piano_audio.transcribe", types.SimpleNamespace(transcribe=transcribe))
    wav = tmp_path / "silence.wav"
    wav.write_bytes(b"RIFF")
    out = tmp_path / "r.html"
    argv = ["score", str(wav), "--score", str(example.score), "--format", "html", "--output", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "silence.wav: no piano notes were transcribed" in err and calls == [wav] and not out.exists()


def test_clock_rounds_into_the_next_minute() -> None:
    from piano_eval.practice.report import clock

    assert [clock(t) for t in (None, 0.0, 59.94, 59.97, 63.7, 3599.96)] == [
        "-", "0:00.0", "0:59.9", "1:00.0", "1:03.7", "60:00.0",
    ]  # fmt: skip
