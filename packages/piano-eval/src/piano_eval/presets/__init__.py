"""Experiment presets: one YAML file per experiment, with a ``quick`` and a ``full`` size.

A preset file holds ``id``, ``group``, ``description`` and one mapping per size. The keys of a size must be keys
the experiment knows (its ``defaults``); anything else is refused with the key and the file named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from piano_eval.errors import UsageError

__all__ = ["Preset", "load_preset", "preset_path", "resolve_config"]

_TOP_LEVEL = {"id", "group", "description", "quick", "full"}


@dataclass(frozen=True)
class Preset:
    id: str
    group: str
    description: str
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""

    def config(self, size: str) -> dict[str, Any]:
        if size not in self.sizes:
            raise UsageError(f"{self.source}: preset {self.id!r} has no size {size!r} (has: {', '.join(self.sizes)})")
        return dict(self.sizes[size] or {})


def preset_path(experiment_id: str) -> Path | None:
    """The shipped preset file of an experiment id, or ``None``."""
    ref = resources.files("piano_eval.presets") / f"{experiment_id}.yaml"
    return Path(str(ref)) if ref.is_file() else None


def load_preset(source: str | PathLike[str]) -> Preset:
    """Load a preset from a YAML file path, or the shipped preset of an experiment id."""
    path = Path(source)
    if not path.suffix:
        shipped = preset_path(str(source))
        if shipped is None:
            raise UsageError(f"no preset for experiment {source!r}")
        path = shipped
    if not path.is_file():
        raise UsageError(f"{path}: preset file not found")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: a preset must be a mapping")
    unknown = sorted(set(doc) - _TOP_LEVEL)
    if unknown:
        raise UsageError(
            f"{path}: unknown preset key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_LEVEL))}"
        )
    if "id" not in doc:
        raise UsageError(f"{path}: preset has no 'id'")
    sizes = {s: doc[s] for s in ("quick", "full") if s in doc}
    for size, cfg in sizes.items():
        if cfg is not None and not isinstance(cfg, dict):
            raise UsageError(f"{path}: size {size!r} must be a mapping of preset keys")
    return Preset(str(doc["id"]), str(doc.get("group", "")), str(doc.get("description", "")), sizes, str(path))


def resolve_config(
    experiment_id: str,
    size: str,
    overrides: dict[str, Any] | None = None,
    preset_file: str | PathLike[str] | None = None,
    known_keys: set[str] | None = None,
) -> dict[str, Any]:
    """Preset values for ``size`` (shipped, or from ``preset_file``), then ``overrides`` on top.

    With ``known_keys``, any preset key outside them is refused naming the key and the preset file.
    """
    source = preset_file if preset_file is not None else experiment_id
    preset = load_preset(source) if preset_file is not None or preset_path(experiment_id) else None
    if preset is not None and preset.id != experiment_id:
        raise UsageError(f"{preset.source}: preset is for experiment {preset.id!r}, not {experiment_id!r}")
    config = preset.config(size) if preset is not None else {}
    if known_keys is not None and preset is not None:
        unknown = sorted(set(config) - known_keys)
        if unknown:
            raise UsageError(
                f"{preset.source}: unknown preset key(s) {', '.join(unknown)} for {experiment_id!r}; "
                f"known keys: {', '.join(sorted(known_keys))}"
            )
    return {**config, **(overrides or {})}
