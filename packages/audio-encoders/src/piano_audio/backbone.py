"""The MuQ backbone: waveform at 24 kHz -> concatenated hidden states of chosen Conformer layers at 25
frames/s.

Built on the ``muq`` package's model: its mel front end, conv subsampling and Conformer are used as they
are; this
module only selects layers, masks padding, chunks long audio and keeps the caller's RNG state untouched
(building
a ``MuQ`` calls ``torch.manual_seed(142)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from muq import MuQ
from piano_data.contracts import MUQ_FRAME_RATE, SAMPLE_RATE, EncoderOutput
from piano_data.errors import PianoDataError
from piano_data.rng import preserved_rng_state
from torch import nn

from piano_audio.audio import AudioInput, load_audio
from piano_audio.config import MuQBackboneConfig

__all__ = ["SAMPLES_PER_FRAME", "MuQBackbone"]

#: Audio samples per output frame (24 000 / 25).
SAMPLES_PER_FRAME = SAMPLE_RATE // MUQ_FRAME_RATE


def _build_muq(config: MuQBackboneConfig, *, meta: bool = False) -> MuQ:
    """A random-weight ``MuQ`` (RNG state preserved); ``meta`` puts parameters on the meta device (no
    memory)."""
    with preserved_rng_state():
        if not meta:
            return MuQ(config.muq_config())
        from accelerate import init_empty_weights

        with init_empty_weights(include_buffers=False):
            return MuQ(config.muq_config())


class MuQBackbone(nn.Module):
    """A ``muq.MuQ`` model seen as a :class:`~piano_data.contracts.SequenceEncoder`.

    ``forward(waveform [B, N], lengths [B] | None)`` is differentiable (LoRA, unfreezing) and encodes the
    whole
    input at once; :meth:`encode` takes files or arrays of any length, handles resampling/downmixing and
    cuts long
    audio into ``config.chunk_seconds`` chunks. Frames are ``[B, N // 960, len(layers) * encoder_dim]``.

    ``meta=True`` builds the module layout with parameters on the meta device (no memory, no forward):
    enough to
    count parameters or check which modules LoRA targets on the large config.

    Modules whose own parameters are all frozen stay in eval mode even under ``.train()`` (no dropout noise or
    BatchNorm statistics drift in frozen layers); unfrozen or LoRA-adapted layers follow ``train()``.
    """

    def __init__(self, config: MuQBackboneConfig, muq: MuQ | None = None, *, meta: bool = False) -> None:
        super().__init__()
        self.config = config
        self.muq = muq if muq is not None else _build_muq(config, meta=meta)
        depth = len(self.conformer.layers)
        if depth != config.encoder_depth:
            raise ValueError(f"MuQ model has {depth} Conformer layers but the config says {config.encoder_depth}")
        self.output_dim: int = config.output_dim
        self.eval()  # a backbone starts in inference mode; training code calls .train()

    # ------------------------------------------------------------------ structure
    @property
    def conformer(self) -> Any:
        """The ``Wav2Vec2ConformerEncoder`` inside MuQ (``.layers``, ``.layer_norm``)."""
        return self.muq.model.conformer

    @property
    def layers(self) -> nn.ModuleList:
        """The Conformer layers; ``layers[i - 1]`` is layer ``i`` in the 1-based numbering of
        ``config.layers``."""
        layers: nn.ModuleList = self.conformer.layers
        return layers

    def layer_parameters(self, layer: int) -> list[nn.Parameter]:
        """Parameters of Conformer layer ``layer`` (1-based); layer ``encoder_depth`` includes the final
        norm."""
        params = list(self.layers[layer - 1].parameters())
        if layer == self.config.encoder_depth:
            params += list(self.conformer.layer_norm.parameters())
        return params

    def freeze(self) -> MuQBackbone:
        for p in self.parameters():
            p.requires_grad_(False)
        return self

    def train(self, mode: bool = True) -> MuQBackbone:
        super().train(mode)
        if mode:
            for module in self.modules():
                own = list(module.parameters(recurse=False))
                if own and not any(p.requires_grad for p in own):
                    module.training = False  # this module only: its children keep their own rule
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor | None = None) -> EncoderOutput:
        """Encode a batch of 24 kHz mono waveforms ``[B, N]`` (``lengths`` in samples for padded batches)."""
        if waveform.dim() == 1:
            waveform = waveform[None]
        if waveform.dim() != 2:
            raise ValueError(f"waveform must be [B, N] mono at 24 kHz, got shape {tuple(waveform.shape)}")
        n_frames = waveform.shape[1] // SAMPLES_PER_FRAME
        if n_frames < 1:
            raise PianoDataError(None, f"audio is too short to give one frame ({waveform.shape[1]} < 960 samples)")
        waveform = waveform[:, : n_frames * SAMPLES_PER_FRAME]
        model = self.muq.model
        mel = model.normalize(model.preprocessing(waveform, features=["melspec_2048"]))["melspec_2048"]
        hidden = model.conv(mel)[:, :n_frames]
        if lengths is None:
            mask = torch.ones(hidden.shape[:2], dtype=torch.bool, device=hidden.device)
            out = self.conformer(hidden, output_hidden_states=True)
        else:
            valid = torch.clamp(lengths.to(hidden.device) // SAMPLES_PER_FRAME, min=1, max=n_frames)
            mask = torch.arange(n_frames, device=hidden.device)[None, :] < valid[:, None]
            out = self.conformer(hidden, attention_mask=mask, output_hidden_states=True)
        states = out.hidden_states
        frames = torch.cat([states[i] for i in self.config.layers], dim=-1)
        frames = frames * mask[..., None].to(frames.dtype)
        return EncoderOutput(frames=frames, mask=mask)

    @torch.no_grad()
    def encode(
        self,
        audio: AudioInput | Sequence[AudioInput],
        *,
        sample_rate: int | None = None,
        allow_clipped: bool = False,
    ) -> EncoderOutput:
        """Encode one or several files/arrays of any length (chunked, padded into one batch with a mask)."""
        items: list[AudioInput] = list(audio) if isinstance(audio, list | tuple) else [audio]  # type: ignore[list-item]
        device = next(self.parameters()).device
        outputs = []
        for item in items:
            wave = load_audio(
                item,
                sample_rate=sample_rate,
                min_seconds=self.config.min_seconds,
                allow_clipped=allow_clipped,
            )
            outputs.append(self._encode_long(torch.from_numpy(wave).to(device)))
        length = max(o.shape[0] for o in outputs)
        frames = outputs[0].new_zeros((len(outputs), length, self.output_dim))
        mask = torch.zeros((len(outputs), length), dtype=torch.bool, device=frames.device)
        for i, o in enumerate(outputs):
            frames[i, : o.shape[0]] = o
            mask[i, : o.shape[0]] = True
        return EncoderOutput(frames=frames, mask=mask)

    def _encode_long(self, wave: torch.Tensor) -> torch.Tensor:
        """``[T, D]`` frames of one mono waveform, chunk by chunk; a tail under 1 s joins the previous
        chunk."""
        chunk = int(self.config.chunk_seconds * MUQ_FRAME_RATE) * SAMPLES_PER_FRAME
        starts = list(range(0, wave.shape[0], chunk))
        if len(starts) > 1 and wave.shape[0] - starts[-1] < SAMPLE_RATE:
            starts.pop()
        bounds = [*starts[1:], wave.shape[0]]
        was_training = self.training
        self.eval()
        try:
            parts = [self(wave[s:e][None]).frames[0] for s, e in zip(starts, bounds, strict=True)]
        finally:
            self.train(was_training)
        return torch.cat(parts, dim=0)
