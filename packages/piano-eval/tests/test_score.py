from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from piano_eval.cli.main import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "features"
    assert main(["train", "baseline-features", "--set", "ensemble=2", "--output", str(out)]) == 0
    assert (out / "checkpoint.json").is_file()
    return out


def _segment() -> tuple[Path, Path]:
    from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus

    seg = next(s for s in make_synthetic_corpus(SyntheticConfig()) if not s.is_deadpan)
    assert seg.score_midi_path is not None
    return seg.midi_path, seg.score_midi_path


def test_score_text_json_html_and_chart(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    perf, score = _segment()
    chart = tmp_path / "chart.png"
    assert main(["score", str(perf), "--score", str(score), "--checkpoint", str(checkpoint), "--plot", str(chart)]) == 0
    text = capsys.readouterr().out
    assert "Timing_Stable_Unstable" in text and "Against the score:" in text and "score notes matched" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["score", str(perf), "--checkpoint", str(checkpoint), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["dimensions"]) == 19
    assert all(0 <= d["value"] <= 1 and 0 <= d["confidence"] <= 1 for d in doc["dimensions"])
    html = tmp_path / "r.html"
    assert main(["score", str(perf), "--checkpoint", str(checkpoint), "--format", "html", "--output", str(html)]) == 0
    assert "data:image/png;base64," in html.read_text()


def test_score_real_percepiano(data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pp = data_root / "percepiano" / "midi"
    if not pp.is_dir():
        pytest.skip("PercePiano absent")
    out = tmp_path / "ckpt"
    assert (
        main(
            [
                "train",
                "baseline-features",
                "--set",
                "model=ridge",
                "--data-root",
                str(data_root),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    perf = pp / "all_2rounds" / "Schubert_D960_mv3_8bars_0_01.mid"
    score = pp / "score_midi" / "Schubert_D960_mv3_8bars_Score_01.mid"
    assert main(["score", str(perf), "--score", str(score), "--checkpoint", str(out), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["score_conditioned"]["score notes matched"] > 0.8


def test_bad_checkpoint_and_input(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    perf, _ = _segment()
    assert main(["score", str(perf), "--checkpoint", str(tmp_path)]) == 2
    assert "not a piano-eval checkpoint" in capsys.readouterr().err
    other = tmp_path / "other"
    shutil.copytree(checkpoint, other)
    manifest = json.loads((other / "checkpoint.json").read_text())
    manifest["experiment"] = "no-such-experiment"
    (other / "checkpoint.json").write_text(json.dumps(manifest))
    assert main(["score", str(perf), "--checkpoint", str(other)]) == 2
    assert "unsupported checkpoint" in capsys.readouterr().err
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    assert main(["score", str(txt), "--checkpoint", str(checkpoint)]) == 2
    assert "unsupported file type '.txt'" in capsys.readouterr().err
    bad = tmp_path / "bad.mid"
    bad.write_text("garbage")
    assert main(["score", str(bad), "--checkpoint", str(checkpoint)]) == 2
    assert "bad.mid: not a readable MIDI file" in capsys.readouterr().err
