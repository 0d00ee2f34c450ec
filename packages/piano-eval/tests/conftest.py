from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from piano_data.paths import find_data_root


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIANO_EVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = find_data_root(Path(__file__).parent)
    if root is None:
        pytest.skip("shared data folder (../shared/data or $PIANO_EVAL_DATA) is absent")
    return root
