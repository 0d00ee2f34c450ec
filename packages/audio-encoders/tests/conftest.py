from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from piano_audio import MuQBackbone, muq_backbone, muq_tiny
from piano_data.paths import find_data_root


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = find_data_root(Path(__file__).parent)
    if root is None:
        pytest.skip("shared data folder (../shared/data or $PIANO_EVAL_DATA) is absent")
    return root


@pytest.fixture(scope="session")
def rendered_example(data_root: Path) -> Path:
    wav = data_root / "percepiano" / "rendered_example" / "FluidR3_GM_mono24k.wav"
    if not wav.is_file():
        pytest.skip(f"{wav} is absent")
    return wav


@pytest.fixture
def tiny() -> MuQBackbone:
    return muq_backbone(muq_tiny())
