from __future__ import annotations

import pytest
import torch
from piano_data.midi import read_notes
from piano_symbolic.s1 import S1Featurizer, S1Transformer, mask_tokens, s1_base, s1_tiny
from piano_symbolic.tokenizer import RemiTokenizer
from symbolic_testing import percepiano_files, pull_same_piece

TOK = RemiTokenizer()


def _batch(b: int = 4, length: int = 40) -> dict[str, torch.Tensor]:
    ids = torch.randint(4, TOK.vocab_size, (b, length))
    mask = torch.ones(b, length, dtype=torch.bool)
    mask[1, length // 2 :] = False
    ids[~mask] = TOK.pad_id
    return {"ids": ids, "mask": mask, "group_ids": torch.tensor([0, 0, 1, -1])[:b]}


def test_shapes_and_mask() -> None:
    model = S1Transformer(s1_tiny()).eval()
    batch = _batch()
    with torch.no_grad():
        out = model(batch)
    assert out.frames.shape == (4, 40, 512) and out.mask.dtype == torch.bool
    assert torch.equal(out.mask, batch["mask"])
    assert float(out.frames[1, 20:].abs().sum()) == 0.0


def test_padding_does_not_change_valid_outputs() -> None:
    model = S1Transformer(s1_tiny()).eval()
    batch = _batch()
    short = {"ids": batch["ids"][1:2, :20], "mask": batch["mask"][1:2, :20]}
    assert torch.allclose(model(batch).frames[1, :20], model(short).frames[0], atol=1e-5)


def test_long_sequences_are_chunked() -> None:
    model = S1Transformer(s1_tiny()).eval()  # max_len 64
    out = model({"ids": torch.randint(4, 400, (1, 150)), "mask": torch.ones(1, 150, dtype=torch.bool)})
    assert out.frames.shape == (1, 150, 512)


def test_bert_masking_proportions() -> None:
    ids = torch.randint(4, TOK.vocab_size, (64, 128))
    valid = torch.ones_like(ids, dtype=torch.bool)
    out, targets = mask_tokens(ids, valid, mask_id=3, special_ids=(0, 1, 2, 3), vocab_size=TOK.vocab_size)
    picked = targets >= 0
    assert 0.13 < picked.float().mean() < 0.17
    assert 0.76 < (out[picked] == 3).float().mean() < 0.84
    assert 0.07 < (out[picked] == ids[picked]).float().mean() < 0.14
    assert torch.equal(out[~picked], ids[~picked])


def test_pretraining_loss_decreases() -> None:
    model = S1Transformer(s1_tiny())
    batch = _batch(4, 32)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = model.pretraining_loss(batch, pull_same_piece)
        assert set(loss) == {"loss", "mlm", "contrastive"}
        opt.zero_grad()
        loss["loss"].backward()
        opt.step()
        losses.append(float(loss["mlm"]))
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 * 0.9
    assert set(model.pretraining_loss(batch)) == {"loss", "mlm"}  # no piece contrast given: intrinsic terms only


def test_pinned_statistic() -> None:
    model = S1Transformer(s1_tiny()).eval()
    ids = torch.arange(4, 36).view(1, 32)
    with torch.no_grad():
        out = model({"ids": ids, "mask": torch.ones(1, 32, dtype=torch.bool)})
    assert sum(p.numel() for p in model.parameters()) == 380_551
    assert float(out.frames.mean()) == pytest.approx(-0.04962, abs=1e-4)
    assert float(out.frames.std()) == pytest.approx(0.60283, abs=1e-4)


def test_base_preset_is_about_25m_parameters() -> None:
    n = sum(p.numel() for p in S1Transformer(s1_base()).parameters())
    assert 20e6 < n < 30e6


@pytest.mark.parametrize("path", percepiano_files(2) or [None])
def test_featurizer_on_real_files(path) -> None:
    if path is None:
        pytest.skip("shared/data/percepiano not found")
    fz = S1Featurizer(TOK, max_tokens=100)
    x = fz(read_notes(path))
    assert len(x) == 100 and int(x[-1]) == TOK.eos_id
    batch = fz.collate([x, x[:50]])
    assert batch["ids"].shape == (2, 100) and int(batch["mask"].sum()) == 150
