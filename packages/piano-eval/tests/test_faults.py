"""Faults lose nothing: ``piano-eval run`` and ``piano-eval train`` killed with SIGKILL while writing leave no
half-written results file or checkpoint; the next run writes a whole one, and an interrupted replacement of a
checkpoint keeps the previous one (and says where it is).

The child stops itself inside ``os.replace`` for the file or folder that the test names, that is after the
temporary copy is complete and before it is renamed into place, and is killed there. A writer that wrote in
place would never call ``os.replace`` for it, and the test would fail waiting.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from piano_data.atomic import replaced_dirs
from piano_data.errors import PianoDataError
from piano_eval.checkpoint import load_checkpoint
from piano_eval.cli.main import main

CHILD = r"""
import os, sys, time
from pathlib import Path
ready, hang_on, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
real_replace = os.replace
def replace_then_hang(src, dst):
    if str(dst) == hang_on or Path(dst).name == hang_on:
        ready.write_text(str(src))
        time.sleep(300)  # killed here
    return real_replace(src, dst)
os.replace = replace_then_hang
from piano_eval.cli.main import main
sys.exit(main(argv))
"""


def _kill_at(tmp_path: Path, hang_on: str, argv: list[str]) -> Path:
    """Run ``piano-eval ARGV`` in a child and SIGKILL it inside the rename onto ``hang_on`` (a full path, or a
    file name when the folder is not known in advance); returns the temporary path it was renaming."""
    ready = tmp_path / "ready"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(ready), hang_on, *argv], env=env)
    end = time.monotonic() + 300
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child exited ({proc.returncode}) without renaming onto {hang_on}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"child never renamed onto {hang_on}")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return Path(ready.read_text())


def test_killed_run_leaves_no_results_file_and_the_next_run_writes_one(tmp_path: Path) -> None:
    out = tmp_path / "results"
    argv = ["--quiet", "run", "baseline-features", "--set", "model=ridge", "--folds", "0", "--out", str(out)]
    temp = _kill_at(tmp_path, "results.json", argv)  # its folder has a timestamp: matched by name
    assert temp.is_file() and temp.name.endswith(".tmp")
    json.loads(temp.read_text())  # the temporary copy was complete ...
    assert not list(out.rglob("results.json"))  # ... and no results file exists: nothing half-written
    assert main(argv) == 0  # the next run
    [results] = list(out.rglob("results.json"))
    assert json.loads(results.read_text())["experiment"] == "baseline-features"


def test_killed_checkpoint_replacement_keeps_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "ckpt"
    train = ["--quiet", "train", "baseline-features", "--set", "model=ridge", "--output", str(out)]
    assert main(train) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    temp = _kill_at(tmp_path, str(out), train)  # killed between moving the old one aside and renaming the new one in
    assert temp.is_dir() and (temp / "features_models.npz").is_file()  # the new one was complete
    [aside] = replaced_dirs(out)
    with pytest.raises(PianoDataError, match=rf"previous checkpoint is at {re.escape(str(aside))} "):
        load_checkpoint(out)  # says where the old one is ...
    assert {p.name: p.read_bytes() for p in aside.iterdir()} == before  # ... which is whole
    load_checkpoint(aside)
    assert main(train) == 0  # the next run puts a whole checkpoint in place and clears the old one away
    assert replaced_dirs(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ckpt", "ready", temp.name])  # a temp may be live
    experiment, manifest = load_checkpoint(out)
    assert manifest["experiment"] == "baseline-features" and experiment.id == "baseline-features"
