"""S4: tokens from aligned performances with known answers, the encoder, pretraining, checkpoints, real files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, read_notes
from piano_data.paths import find_data_root
from piano_data.score import ScoreData, read_score
from piano_symbolic.aligned import align_performance
from piano_symbolic.s4 import (
    DEVIATION_FEATURES,
    TARGETS,
    CorpusPair,
    PretrainSpec,
    S4Config,
    bar_windows,
    build_windows,
    collate_tokens,
    load_s4,
    pretrain_s4,
    s4_encoder,
    s4_full,
    s4_tiny,
    save_s4,
    tokens_from_aligned,
)
from symbolic_testing import pull_same_piece as piece_contrast  # this package never imports piano_fusion

BEAT = 0.5


def synth_score(seed: int, n_beats: int = 32) -> ScoreData:
    """Eighth notes, random pitches (none repeated within four notes), 4/4 at 120 qpm."""
    rng = np.random.default_rng(seed)
    pitches: list[int] = []
    for _ in range(n_beats * 2):
        p = int(rng.integers(55, 85))
        while p in pitches[-4:]:
            p = int(rng.integers(55, 85))
        pitches.append(p)
    on = np.arange(n_beats * 2) * BEAT / 2
    notes = NoteArray.from_arrays(on, on + BEAT / 2 * 0.9, np.array(pitches), np.full(len(on), 64), source="s")
    return ScoreData(
        notes=notes,
        bar_times=np.arange(0.0, n_beats * BEAT, 4 * BEAT),
        bar_numbers=[str(i + 1) for i in range(n_beats // 4)],
        beat_times=np.arange(0.0, n_beats * BEAT, BEAT),
        time_signatures=[(0.0, 4, 4)],
        source="s",
    )


def perform(score: ScoreData, stretch: float, delay: dict[int, float] | None = None, drop: int | None = None):
    n = score.notes
    on = 1.0 + stretch * n.onset
    for i, d in (delay or {}).items():
        on[i] += d
    keep = np.ones(len(n), dtype=bool)
    if drop is not None:
        keep[drop] = False
    vel = np.full(len(n), 70)
    return NoteArray.from_arrays(on[keep], (on + stretch * (n.offset - n.onset))[keep], n.pitch[keep], vel[keep])


def test_uniform_stretch_gives_zero_deviation_and_a_delay_its_beats() -> None:
    score = synth_score(1)
    steady = tokens_from_aligned(align_performance(perform(score, 1.3), score, cache=False))
    dev = DEVIATION_FEATURES.index("onset_dev_beats")
    assert len(steady) == len(score.notes) and steady.target_mask.all()
    assert np.abs(steady.deviation[:, dev]).max() < 1e-6
    assert np.abs(steady.deviation[:, DEVIATION_FEATURES.index("log_articulation")]).max() < 1e-3
    late = tokens_from_aligned(align_performance(perform(score, 1.3, {20: 0.13}), score, cache=False))
    # 0.13 s at 1.3 x 0.5 s per beat = 0.2 beats late
    assert late.deviation[20, dev] == pytest.approx(0.2, abs=0.02)
    assert np.abs(np.delete(late.deviation[:, dev], 20)).max() < 0.05


def test_missed_note_has_status_and_no_deviation() -> None:
    score = synth_score(2)
    t = tokens_from_aligned(align_performance(perform(score, 1.0, drop=17), score, cache=False))
    assert t.status[17] == 1 and not t.target_mask[17]  # SCORE_STATUS[1] == "missed"
    assert np.all(t.deviation[17] == 0)
    assert (t.status == 0).sum() == len(t) - 1


def test_bar_windows_partition_by_bars() -> None:
    score = synth_score(3)
    t = tokens_from_aligned(align_performance(perform(score, 1.1), score, cache=False))
    wins = bar_windows(t, 2, 1000)
    assert [s for s, _ in wins] == [0, 2, 4, 6]
    assert sum(len(w) for _, w in wins) == len(t)
    assert all(np.all((w.bar >= s) & (w.bar < s + 2)) for s, w in wins)


@pytest.mark.parametrize("body", ["transformer", "gru"])
def test_encoder_shapes_and_padding_invariance(body: str) -> None:
    score = synth_score(4)
    t = tokens_from_aligned(align_performance(perform(score, 1.0), score, cache=False))
    model = s4_encoder(replace(s4_tiny(), body=body), seed=0).eval()
    short = t.slice(0, 20)
    with torch.no_grad():
        alone = model(collate_tokens([short]))
        both = model(collate_tokens([short, t]))
    assert both.frames.shape == (2, min(len(t), 128), 16) and both.mask[0].sum() == 20
    assert torch.allclose(alone.frames[0], both.frames[0, :20], atol=1e-5)
    assert torch.all(both.frames[0, 20:] == 0)


def test_pretraining_learns_masked_deviations_beyond_the_mean() -> None:
    """Velocity follows pitch height in every performance: masked velocities are predictable from the score."""
    items = []
    for k in range(12):
        score = synth_score(10 + k % 3)
        perf = perform(score, 1.0 + 0.05 * k)
        vel = np.clip(40 + (perf.pitch - 55) * 2 + k, 1, 127)
        perf = NoteArray.from_arrays(perf.onset, perf.offset, perf.pitch, vel)
        pair = CorpusPair(Path(f"p{k}.mid"), Path(f"s{k % 3}.mid"), f"s{k % 3}", f"p{k}", "asap")
        items.append((pair, tokens_from_aligned(align_performance(perf, score, cache=False))))
    spec = PretrainSpec(window_bars=2, windows_per_score=4, steps=120, batch_size=8, lr=5e-3, val_frac=0.34)
    windows = build_windows(items, spec, 128)
    assert len({w.group for w in windows}) == 12  # 3 scores x 4 bar positions, shared across performers
    _, report = pretrain_s4(replace(s4_tiny(), d_model=32, output_dim=32), windows, spec, piece_contrast)
    after = report["val_after"]
    vel = TARGETS.index("velocity_local")
    assert after["masked_mse"][TARGETS[vel]] < 0.5 * after["masked_mse_mean_baseline"][TARGETS[vel]]
    assert after["masked_mse_ratio"] < report["val_before"]["masked_mse_ratio"]
    # the chance loss is the contrast of identical embeddings: 0 for this test stand-in (a distance); with
    # piano_fusion's InfoNCE it is log(B - 1) (piano-eval's test_s4_experiment runs that pairing)
    assert after["contrast_chance"] == 0.0
    assert report["train_curve"][-1]["step"] == 120


def test_pretraining_does_not_depend_on_the_global_random_state() -> None:
    """Dropout draws come from the seeded spec, not from torch's global generator (whose initial seed differed
    between processes, so two processes pretrained different encoders); the caller's state is left as it was."""
    items = []
    for k in range(4):
        score = synth_score(20 + k % 2)
        pair = CorpusPair(Path(f"p{k}.mid"), Path(f"s{k % 2}.mid"), f"s{k % 2}", f"p{k}", "asap")
        items.append((pair, tokens_from_aligned(align_performance(perform(score, 1.0 + 0.1 * k), score, cache=False))))
    spec = PretrainSpec(window_bars=2, windows_per_score=2, steps=3, batch_size=4, val_frac=0.5)
    windows = build_windows(items, spec, 64)
    cfg = replace(s4_tiny(), dropout=0.3)
    states = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        model, _ = pretrain_s4(cfg, windows, spec, piece_contrast)
        after_call = torch.rand(3)
        torch.manual_seed(global_seed)
        assert torch.equal(after_call, torch.rand(3))  # the caller's generator untouched
        states.append(model.state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_checkpoint_round_trip_and_bad_files(tmp_path: Path) -> None:
    score = synth_score(5)
    batch = collate_tokens([tokens_from_aligned(align_performance(perform(score, 1.0), score, cache=False))])
    model = s4_encoder(s4_tiny(), seed=3).eval()
    save_s4(tmp_path / "ck", model, {"note": "x"})
    again, extra = load_s4(tmp_path / "ck")
    assert extra == {"note": "x"} and again.cfg == model.cfg
    with torch.no_grad():
        assert torch.equal(model(batch).frames, again(batch).frames)
    with pytest.raises(PianoDataError, match="not an S4 checkpoint"):
        load_s4(tmp_path)
    (tmp_path / "ck" / "encoder.json").write_text(json.dumps({"config": {"d_model": 15, "n_heads": 2}}))
    with pytest.raises(PianoDataError, match="metadata"):
        load_s4(tmp_path / "ck")


def test_full_size_runs_one_step_on_cpu() -> None:
    cfg = s4_full()
    assert cfg.output_dim == 512 and cfg.n_layers == 4
    score = synth_score(6)
    t = tokens_from_aligned(align_performance(perform(score, 1.0), score, cache=False))
    model = s4_encoder(cfg, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = {**collate_tokens([t, t.slice(0, 40)]), "group_ids": torch.tensor([0, 1])}
    losses = model.pretraining_loss(batch, piece_contrast, torch.Generator().manual_seed(0))
    losses["loss"].backward()
    opt.step()
    assert torch.isfinite(losses["loss"]) and model(batch).frames.shape[-1] == 512


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="divisible"):
        S4Config(d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="body"):
        S4Config(body="lstm")  # type: ignore[arg-type]


def test_real_percepiano_segment() -> None:
    root = find_data_root()
    if root is None or not (root / "percepiano").is_dir():
        pytest.skip("PercePiano not found under the data root")
    midi = sorted((root / "percepiano" / "midi" / "all_2rounds").glob("Beethoven_WoO80_var27_8bars_1_*.mid"))[0]
    segment = midi.stem.split("_")[-1]
    score = read_score(root / "percepiano" / "midi" / "score_midi" / f"Beethoven_WoO80_var27_8bars_Score_{segment}.mid")
    t = tokens_from_aligned(align_performance(read_notes(midi), score))
    assert len(t) > 50 and t.target_mask.mean() > 0.8
    dev = np.abs(t.deviation[t.target_mask, DEVIATION_FEATURES.index("onset_dev_beats")])
    assert np.median(dev) < 0.1
    assert 0 < t.bar.max() - t.bar.min() <= 9
