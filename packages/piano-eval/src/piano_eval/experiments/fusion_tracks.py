"""The two input tracks of the fusion experiments, extracted once per run and cached as frame sequences.

- symbolic ``s1``: the S1 REMI Transformer of ``piano_symbolic``, pretrained here by masked-token prediction
  (+ its cross-performer InfoNCE) on the run's own MIDI, label-free, unless ``symbolic_checkpoint`` names a
  pretrained one; its ``[T, 512]`` token outputs mean-pooled over ``symbolic_stride`` consecutive tokens.
  Stand-in ``features``: per-note hand-made features (pitch, velocity, duration, IOI, pedal) as a sequence.
- audio ``muq``: the performance MIDI rendered with fluidsynth (``piano_data.render``) and encoded by a MuQ
  backbone (``piano_audio``): the real weights with ``--muq-weights``, otherwise the *tiny random-weight*
  preset (no weights can be downloaded here). Stand-in ``mel``: a 25 frames/s log-mel spectrogram.

Everything is written to an :class:`~piano_data.cache.EmbeddingCache` under ``cache_dir`` keyed by the input's
bytes and the encoder, so ``f1``, ``f2`` and ``f3`` share one extraction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from piano_data.cache import CacheKey, EmbeddingCache
from piano_data.midi import NoteArray, read_notes
from piano_data.paths import cache_root
from piano_data.progress import progress_disabled
from piano_data.samples import Segment
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from piano_eval.experiments.base import RunContext

log = logging.getLogger(__name__)

__all__ = ["audio_track", "s1_bundle", "stride_pool", "symbolic_track"]


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stride_pool(frames: np.ndarray, stride: int) -> np.ndarray:
    """Mean over non-overlapping windows of ``stride`` frames (the last window may be shorter)."""
    if stride <= 1:
        return frames
    n = int(np.ceil(len(frames) / stride))
    padded = np.zeros((n * stride, frames.shape[1]), dtype=np.float32)
    padded[: len(frames)] = frames
    counts = np.minimum(stride, len(frames) - np.arange(n) * stride)[:, None]
    return padded.reshape(n, stride, -1).sum(1) / counts


# --------------------------------------------------------------------------------------------- symbolic track
def _note_features(notes: NoteArray) -> np.ndarray:
    """Stand-in symbolic sequence: one row per note, 8 hand-made features."""
    onset = notes.onset - (notes.onset[0] if len(notes) else 0.0)
    ioi = np.diff(notes.onset, prepend=notes.onset[:1])
    pedal = notes.pedal_down(notes.onset).astype(np.float64)
    cols = [
        notes.pitch / 127.0,
        notes.velocity / 127.0,
        np.log1p(notes.duration),
        np.log1p(ioi),
        pedal,
        onset / max(float(onset[-1]) if len(onset) else 1.0, 1e-3),
        np.sin(2 * np.pi * notes.pitch / 12.0),
        np.cos(2 * np.pi * notes.pitch / 12.0),
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def s1_bundle(segments: Sequence[Segment], cfg: dict[str, Any], ctx: RunContext, cache_dir: Path) -> tuple[Any, str]:
    """A pretrained S1 bundle and an id naming its weights."""
    from piano_symbolic.checkpoint import WEIGHTS_FILE, load_encoder_checkpoint, save_encoder_checkpoint
    from piano_symbolic.encoders import build_encoder
    from piano_symbolic.s1 import S1Config
    from piano_symbolic.tokenizer import RemiTokenizer

    tok = RemiTokenizer()
    if cfg.get("symbolic_checkpoint"):
        path = Path(str(cfg["symbolic_checkpoint"]))
        bundle, _ = load_encoder_checkpoint(path, tok)
        return bundle, f"s1-ckpt-{_digest([str(path.resolve()), (path / WEIGHTS_FILE).stat().st_mtime_ns])}"
    s1cfg = S1Config(vocab_size=tok.vocab_size, **cfg["s1"])
    recipe = {
        "s1": asdict(s1cfg),
        "epochs": cfg["s1_pretrain_epochs"],
        "seed": ctx.seed,
        "tok": tok.fingerprint(),
        "piece_contrast": 2,  # piano_fusion.piece_contrast (anchors need a negative)
    }
    wid = f"s1-{_digest([recipe, sorted(s.key for s in segments)])}"
    ckpt = cache_dir / "s1" / wid
    if (ckpt / WEIGHTS_FILE).is_file():
        bundle, _ = load_encoder_checkpoint(ckpt, tok)
        log.info("S1 weights from %s", ckpt)
        return bundle, wid
    bundle = build_encoder("s1", s1cfg, tok)
    epochs = int(cfg["s1_pretrain_epochs"])
    if epochs > 0:
        from piano_eval.training import SelfSupervisedModule, TrainConfig, fit_module, hardware_options

        groups = {g: i for i, g in enumerate(sorted({s.group for s in segments}))}
        items = [(bundle.featurizer(read_notes(s.midi_path)), groups[s.group]) for s in segments]

        def collate(batch: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
            out = bundle.featurizer.collate([b[0] for b in batch])
            out["group_ids"] = torch.tensor([b[1] for b in batch], dtype=torch.long)
            return out

        tcfg = TrainConfig(
            max_epochs=epochs, lr=1e-3, batch_size=16, seed=ctx.seed, progress_bar=False,
            **hardware_options(ctx.options),
        )  # fmt: skip
        dataset: Any = items
        loader: DataLoader[Any] = DataLoader(dataset, batch_size=tcfg.batch_size, shuffle=True, collate_fn=collate)
        log.info(
            "pretraining S1 (masked tokens + cross-performer InfoNCE) for %d epochs on %d MIDI",
            epochs,
            len(items),
        )
        from piano_fusion import piece_contrast

        module = SelfSupervisedModule(bundle.model, tcfg, loss_kwargs={"piece_contrast": piece_contrast})
        fit_module(module, loader, None, tcfg, ctx.workdir / "s1-pretrain")
    save_encoder_checkpoint(ckpt, bundle, extra={"pretrain": recipe})
    return bundle, wid


def symbolic_track(
    segments: Sequence[Segment],
    cfg: dict[str, Any],
    ctx: RunContext,
    cache: EmbeddingCache,
    s1: tuple[Any, str] | None = None,
) -> tuple[dict[str, np.ndarray], str]:
    """``{segment key: [T, D] float16}`` of the performance MIDI and a description of the track.

    ``s1`` is the ``(bundle, weights id)`` of :func:`s1_bundle` to encode with (default: made here)."""
    kind = cfg["symbolic_track"]
    out: dict[str, np.ndarray] = {}
    if kind == "features":
        for s in segments:
            out[s.key] = _note_features(read_notes(s.midi_path)).astype(np.float16)
        return out, "per-note hand-made features (8 per note) [stand-in]"
    if kind != "s1":
        raise ValueError(f"symbolic_track must be 's1' or 'features', got {kind!r}")
    stride = int(cfg["symbolic_stride"])
    keys = {s.key: CacheKey.for_file(s.midi_path, "pending", layer_spec=f"out-stride{stride}") for s in segments}
    bundle, wid = s1 or s1_bundle(segments, cfg, ctx, Path(cfg["cache_dir"]))
    keys = {k: CacheKey(v.content_hash, wid, layer_spec=v.layer_spec) for k, v in keys.items()}
    todo = [s for s in segments if keys[s.key] not in cache]
    model = bundle.model.eval()
    batch = 16
    with torch.no_grad():
        for i in tqdm(range(0, len(todo), batch), desc="S1 encode", disable=not todo or progress_disabled()):
            chunk = todo[i : i + batch]
            enc = model(bundle.featurizer.collate([bundle.featurizer(read_notes(s.midi_path)) for s in chunk]))
            for j, s in enumerate(chunk):
                frames = enc.frames[j][enc.mask[j]].float().numpy()
                cache.put(keys[s.key], stride_pool(frames, stride).astype(np.float16))
    for s in segments:
        arr = cache.get(keys[s.key])
        assert arr is not None
        out[s.key] = np.asarray(arr)
    n_layers, width = bundle.model.cfg.n_layers, bundle.model.cfg.d_model
    how = (
        "given checkpoint" if cfg.get("symbolic_checkpoint") else f"pretrained {cfg['s1_pretrain_epochs']} epochs here"
    )
    return out, f"S1 REMI Transformer ({n_layers}x{width}, {how}), 512-d tokens pooled x{stride}"


# ------------------------------------------------------------------------------------------------ audio track
def _mel(wave: np.ndarray) -> np.ndarray:
    import torchaudio
    from piano_data.contracts import MUQ_FRAME_RATE, SAMPLE_RATE

    spec = torchaudio.transforms.MelSpectrogram(
        SAMPLE_RATE, n_fft=2048, hop_length=SAMPLE_RATE // MUQ_FRAME_RATE, n_mels=128
    )(torch.from_numpy(wave).float())
    return torch.log(spec + 1e-5).T.numpy()  # [T, 128]


def audio_track(
    segments: Sequence[Segment], cfg: dict[str, Any], ctx: RunContext, cache: EmbeddingCache
) -> tuple[dict[str, np.ndarray], str]:
    """``{segment key: [T, D] float16}`` of audio rendered from each performance MIDI, and a description."""
    from piano_data.render import render_segments

    kind = cfg["audio_track"]
    if kind not in ("muq", "mel"):
        raise ValueError(f"audio_track must be 'muq' or 'mel', got {kind!r}")
    font = str(cfg["soundfont"])
    # renders are content-addressed: one shared cache for every experiment (audio, fusion, --soundfonts)
    rendered = render_segments(segments, [font], cache_root() / "render", workers=2, strict=True)
    by_key = {s.extra.get("base_key", s.key): s for s in rendered}  # rendered keys are <key>@<soundfont>
    weights = ctx.option("muq_weights")
    if kind == "mel":
        encoder_id, desc = "logmel128-25fps", f"log-mel 128 x 25 frames/s of {font} renders [stand-in]"
        encode = None
    else:
        from piano_audio import muq_backbone, muq_tiny

        backbone = muq_backbone(None if weights else muq_tiny(), weights=weights)
        device = (
            "cuda" if str(ctx.option("accelerator", "cpu")) in ("gpu", "cuda") and torch.cuda.is_available() else "cpu"
        )
        backbone = backbone.to(device).eval()
        layers = "-".join(map(str, backbone.config.layers))
        encoder_id = f"muq:{weights}" if weights else "muq-tiny-random"
        desc = (
            f"MuQ {'weights ' + str(weights) if weights else 'tiny, RANDOM weights (no real weights here)'}, "
            f"layers {layers} ({backbone.output_dim}-d, 25 frames/s) of {font} renders"
        )

        def encode(path: Path) -> np.ndarray:
            return backbone.encode(path).frames[0].float().cpu().numpy()

    out: dict[str, np.ndarray] = {}
    for s in tqdm(segments, desc=f"audio ({encoder_id})", disable=progress_disabled()):
        seg = by_key[s.key]
        assert seg.audio_path is not None
        key = CacheKey.for_file(seg.audio_path, encoder_id, layer_spec="mel" if encode is None else layers)
        arr = cache.get(key)
        if arr is None:
            if encode is None:
                from piano_data.audio_io import load_audio

                frames = _mel(load_audio(seg.audio_path))
            else:
                frames = encode(seg.audio_path)
            cache.put(key, frames.astype(np.float16))
            arr = cache.get(key)
        out[s.key] = np.asarray(arr)
    return out, desc
