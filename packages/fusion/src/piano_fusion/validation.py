"""Input checks shared by pooling, the fusions and the model: one clear error per kind of bad input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from piano_data.contracts import EncoderOutput
from piano_data.errors import PianoDataError

__all__ = ["FusionInputError", "check_modalities", "check_output", "clean_frames"]


class FusionInputError(PianoDataError):
    """Bad tensors handed to ``piano_fusion``: mismatched batch sizes or widths, all-padding rows, NaN inputs.

    A :class:`~piano_data.errors.PianoDataError` without a path, so the CLI reports it in one line (exit 2).
    """

    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)


def check_output(out: EncoderOutput, *, name: str, dim: int | None = None) -> None:
    """Raise :class:`FusionInputError` if ``out`` has the wrong width or a sequence with no valid frame."""
    if not isinstance(out, EncoderOutput):
        raise FusionInputError(f"{name}: expected an EncoderOutput, got {type(out).__name__}")
    if dim is not None and out.dim != dim:
        raise FusionInputError(f"{name}: embedding width {out.dim} does not match the configured width {dim}")
    if out.batch_size == 0:
        raise FusionInputError(f"{name}: empty batch")
    empty = (~out.mask.any(dim=1)).nonzero().flatten().tolist()
    if empty:
        raise FusionInputError(
            f"{name}: {len(empty)} sequence(s) are all padding (batch rows {empty[:5]}); "
            "drop them or give each at least one valid frame"
        )


def check_modalities(
    outputs: Mapping[str, EncoderOutput], modalities: Sequence[str], dims: Sequence[int] | None = None
) -> int:
    """Check that ``outputs`` holds exactly ``modalities`` with equal batch sizes; return the batch size."""
    missing = [m for m in modalities if m not in outputs]
    extra = [m for m in outputs if m not in modalities]
    if missing or extra:
        raise FusionInputError(
            f"modalities do not match: expected {list(modalities)}, missing {missing}, unexpected {extra}"
        )
    for i, m in enumerate(modalities):
        check_output(outputs[m], name=m, dim=None if dims is None else dims[i])
    sizes = {m: outputs[m].batch_size for m in modalities}
    if len(set(sizes.values())) > 1:
        raise FusionInputError(f"batch sizes differ between modalities: {sizes}")
    return next(iter(sizes.values()))


def clean_frames(out: EncoderOutput) -> torch.Tensor:
    """``frames`` with padding positions zeroed, so garbage (even NaN) in padding never reaches an output."""
    valid = out.mask.unsqueeze(-1)
    frames = out.frames.masked_fill(~valid, 0.0)
    if not torch.isfinite(frames).all():
        raise FusionInputError("encoder output holds NaN or inf in valid (unmasked) frames")
    return frames
