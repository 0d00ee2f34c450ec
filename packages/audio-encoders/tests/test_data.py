from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from audio_testing import tone
from piano_audio.data import AudioSet, collate
from piano_data.samples import Segment


def test_audio_set_crops_and_collate_pads(tmp_path: Path) -> None:
    segs = []
    for i, seconds in enumerate((3.0, 1.0)):
        wav = tmp_path / f"s{i}.wav"
        sf.write(wav, tone(seconds), 24_000, subtype="FLOAT")
        segs.append(
            Segment(
                key=f"k{i}",
                midi_path=wav,
                piece="p",
                segment="1",
                player=str(i),
                work="w",
                audio_path=wav,
                labels=np.full(19, 0.5),
            )
        )
    data = AudioSet(segs, seconds=2.0, train=True, seed=0)
    batch = collate([data[0], data[1]])
    assert batch["audio"].shape == (2, 48_000)
    assert batch["lengths"].tolist() == [48_000, 24_000]
    assert (batch["audio"][1, 24_000:] == 0).all()
    assert batch["piece"].tolist() == [0, 0] and batch["performer"].tolist() == [0, 1]
    assert torch.allclose(batch["labels"], torch.full((2, 19), 0.5))
    centre = AudioSet(segs, seconds=2.0, train=False, seed=0)[0]["audio"]
    assert torch.equal(centre, torch.from_numpy(tone(3.0)[12_000:60_000]))
