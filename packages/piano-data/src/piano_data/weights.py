"""Module weights as safetensors plus a JSON spec, read back without unpickling anything.

One owner for every checkpoint in the workspace (symbolic encoders, S4, the trained experiments):

- :func:`save_state` / :func:`load_state`: ``<file>.safetensors`` holding a module's ``state_dict``. Keys named
  in ``rebuilt`` are left out (weights the loader rebuilds identically, e.g. frozen MuQ weights from their
  folder or seed) and their sha256 is returned, so a loader can check that what it rebuilt is what was trained
  on. Loading checks keys and shapes first: a file that does not fit the module is one
  :class:`~piano_data.errors.PianoDataError` naming the file and the first mismatched tensor.
- :func:`save_module` / :func:`load_module`: the same plus ``<stem>.json`` ``{"format", "spec", "rebuilt"}``;
  ``load_module`` rebuilds the module from the spec with random weights (``build(spec)``), then loads the
  weights. The JSON is written last, so a folder holds a checkpoint when it holds the JSON.

Files are written under a temporary name and renamed into place (:mod:`piano_data.atomic`: never a half-written
file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from piano_data.atomic import atomic_path, write_text_atomic
from piano_data.errors import PianoDataError, read_json

__all__ = ["FORMAT", "load_module", "load_state", "save_module", "save_state", "state_digest"]

FORMAT = "piano-module/1"
M = TypeVar("M", bound=nn.Module)


def state_digest(state: dict[str, torch.Tensor], keys: Iterable[str]) -> str:
    """sha256 over the names, shapes, dtypes and bytes of ``state[k]`` for ``k`` in ``keys`` (sorted)."""
    h = hashlib.sha256()
    for k in sorted(keys):
        t = state[k].detach().cpu().contiguous()
        h.update(f"{k}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_state(path: Path, module: nn.Module, rebuilt: Iterable[str] = ()) -> str | None:
    """Write ``module.state_dict()`` minus ``rebuilt`` keys to ``path`` (safetensors); returns the digest of the
    left-out tensors (``None`` when none are left out)."""
    from safetensors.torch import save_file

    state = module.state_dict()
    skip = set(rebuilt)
    unknown = skip - set(state)
    if unknown:
        raise KeyError(f"rebuilt keys not in the module: {sorted(unknown)[:3]}")
    # clone: tied weights share storage, which safetensors refuses
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items() if k not in skip}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp))
    return state_digest(state, skip) if skip else None


def load_state(
    path: Path, module: M, rebuilt: Iterable[str] = (), digest: str | None = None, source: Path | None = None
) -> M:
    """Load weights :func:`save_state` wrote into ``module`` (rebuilt with random weights) and put it in eval mode.

    The file must hold exactly the module's keys minus ``rebuilt``, each with the module's shape; with
    ``digest`` the rebuilt tensors must hash to it. Any mismatch is a :class:`PianoDataError` naming ``path``
    (or ``source``, the file the rebuilt keys were recorded in, for a digest mismatch).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise PianoDataError(path, "checkpoint weights missing")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise PianoDataError(path, f"unreadable safetensors weights ({str(exc).splitlines()[0]})") from None
    expected = module.state_dict()
    skip = set(rebuilt)
    missing = sorted(set(expected) - skip - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        what = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise PianoDataError(
            path, f"weights do not fit the model built from the checkpoint config ({what}; {len(missing)} missing, "
            f"{len(extra)} unexpected tensors)"
        )  # fmt: skip
    for k in expected:  # the module's order: the first mismatched layer is named
        t = tensors.get(k)
        if t is not None and tuple(t.shape) != tuple(expected[k].shape):
            raise PianoDataError(
                path,
                f"weights do not fit the model built from the checkpoint config ({k} has shape {tuple(t.shape)}, "
                f"the config gives {tuple(expected[k].shape)})",
            )
    if digest is not None and state_digest(expected, skip) != digest:
        raise PianoDataError(
            source or path, "the rebuilt weights (e.g. MuQ from its folder) differ from those this was trained with"
        )
    module.load_state_dict(tensors, strict=False)
    module.eval()
    return module


def save_module(
    directory: Path, stem: str, module: nn.Module, spec: dict[str, Any], rebuilt: Iterable[str] = ()
) -> None:
    """``<stem>.safetensors`` (weights) + ``<stem>.json`` (``spec``, what :func:`load_module` rebuilds from)."""
    directory = Path(directory)
    keys = sorted(set(rebuilt))
    digest = save_state(directory / f"{stem}.safetensors", module, keys)
    meta = {"format": FORMAT, "spec": spec, "rebuilt": {"keys": keys, "digest": digest}}
    write_text_atomic(directory / f"{stem}.json", json.dumps(meta, indent=1, default=str))


def read_spec(directory: Path, stem: str) -> dict[str, Any]:
    """The ``spec`` of ``<stem>.json`` (a :class:`PianoDataError` when missing or malformed)."""
    return dict(_read_meta(Path(directory) / f"{stem}.json")["spec"])


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise PianoDataError(path, "checkpoint file missing")
    meta = read_json(path, "unreadable checkpoint metadata")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("spec"), dict):
        raise PianoDataError(path, f"not a {FORMAT} metadata file")
    return meta


def load_module(directory: Path, stem: str, build: Callable[[dict[str, Any]], M]) -> tuple[M, dict[str, Any]]:
    """Rebuild the module :func:`save_module` wrote as ``stem`` -> (module in eval mode, its spec).

    ``build(spec)`` makes the module with random weights (and the rebuilt ones, e.g. a MuQ from its folder);
    a spec it refuses (``TypeError``/``ValueError``/``KeyError``) or weights that do not fit are a
    :class:`PianoDataError` naming the file.
    """
    directory = Path(directory)
    meta_path = directory / f"{stem}.json"
    meta = _read_meta(meta_path)
    spec = dict(meta["spec"])
    try:
        module = build(spec)
    except PianoDataError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise PianoDataError(meta_path, f"checkpoint spec does not build a model ({exc})") from None
    rebuilt = meta.get("rebuilt") or {}
    load_state(directory / f"{stem}.safetensors", module, rebuilt.get("keys") or (), rebuilt.get("digest"), meta_path)
    return module, spec
