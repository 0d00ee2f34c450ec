"""The results document of one run (``results.json``), typed, written and read in this one module.

:func:`piano_eval.runner.run_cv` builds a :class:`ResultsRecord` and :func:`save_results` writes it
(:meth:`ResultsRecord.to_json`, atomically); :func:`load_results` reads one back
(:meth:`ResultsRecord.from_json`, validated). Tables, figures, the winner selection and the CLI read its
attributes (``record.summary.per_dimension[d].r2``), never string keys of the JSON.

Reading is tolerant of what older documents of the same format lack (a field missing from the file takes its
default) and strict about what is there: a field of the wrong type, a missing required field
(``format``, ``experiment``, ``split``, ``dataset.name``, ``summary``, ``folds[i].fold``) or another format
number is a one-line :class:`~piano_data.errors.PianoDataError` naming the file.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from piano_data.errors import PianoDataError, read_json

__all__ = [
    "RESULTS_FORMAT",
    "AugmentationMetrics",
    "Compute",
    "DatasetInfo",
    "DimensionMetrics",
    "FoldResult",
    "Provenance",
    "ResultsRecord",
    "Robustness",
    "Summary",
    "load_results",
    "save_results",
]

#: Version of the results document's JSON layout; a reader refuses any other.
RESULTS_FORMAT = 1

T = TypeVar("T")

#: the document's keys in the file, in the order the runner has always written them (``results_path`` is not one)
_KEY_ORDER = (
    "format", "experiment", "variant", "group", "description", "config", "size", "seed", "split", "dataset",
    "summary", "folds", "dimensions", "compute", "provenance",
)  # fmt: skip


@dataclass(frozen=True)
class DimensionMetrics:
    """Mean over the folds of one dimension's R^2 and same-piece pairwise accuracy (``None``: no pairs)."""

    r2: float | None = None
    pairwise_accuracy: float | None = None


@dataclass(frozen=True)
class AugmentationMetrics:
    """One augmentation of the robustness suite against clean audio (see :func:`piano_eval.metrics.robustness`)."""

    pairwise_accuracy: float | None = None
    drop: float | None = None
    pearson_clean_vs_augmented: float | None = None


@dataclass(frozen=True)
class Robustness:
    """Pairwise accuracy clean and per augmentation, with the mean and worst relative drop."""

    pairwise_clean: float | None = None
    per_augmentation: dict[str, AugmentationMetrics] = field(default_factory=dict)
    mean_drop: float | None = None
    max_drop: float | None = None

    @classmethod
    def from_metrics(cls, measured: dict[str, Any]) -> Robustness:
        """The record of :func:`piano_eval.metrics.robustness`'s dict (same keys as in the file)."""
        return _decode(cls, measured, "robustness")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FoldResult:
    """The metrics and out-of-fold predictions of one fold (``predictions[i]`` is for ``keys[i]``)."""

    fold: int
    description: str = ""
    n_train: int = 0
    n_test: int = 0
    r2: float | None = None
    r2_per_dim: list[float] = field(default_factory=list)
    r2_no_deadpan: float | None = None
    pairwise_accuracy: float | None = None
    pairwise_per_dim: list[float] = field(default_factory=list)
    pair_counts: list[int] = field(default_factory=list)
    mse: float | None = None
    wall_s: float = 0.0
    keys: list[str] = field(default_factory=list)
    predictions: list[list[float]] = field(default_factory=list)
    robustness: Robustness | None = None
    r2_within_work: float | None = None  # R^2 within each work, deadpan renditions left out


@dataclass(frozen=True)
class Summary:
    """Means (and standard deviations) over the folds run, per dimension, and the robustness measurement."""

    robustness: Robustness | None = None
    r2: float | None = None
    r2_std: float | None = None
    pairwise_accuracy: float | None = None
    pairwise_accuracy_std: float | None = None
    r2_no_deadpan: float | None = None
    r2_no_deadpan_std: float | None = None
    r2_within_work: float | None = None
    r2_within_work_std: float | None = None
    mse: float | None = None
    per_dimension: dict[str, DimensionMetrics] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetInfo:
    """The labelled corpus a run used (``root`` ``None``: the embedded synthetic corpus)."""

    name: str
    root: str | None = None
    n_segments: int = 0
    version: str | None = None


@dataclass(frozen=True)
class Compute:
    """Wall-clock and CPU seconds of the run (``gpu_hours`` counts wall time when it ran on a GPU)."""

    wall_s: float = 0.0
    prepare_s: float = 0.0
    cpu_s: float = 0.0
    cpu_hours: float = 0.0
    gpu_hours: float = 0.0


@dataclass(frozen=True)
class Provenance:
    """Where and when the run happened, with the run options as text."""

    git_commit: str | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    finished: str | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResultsRecord:
    """One run's results document. ``results_path`` is where it was written or read (not stored in the file)."""

    format: int
    experiment: str
    split: str
    dataset: DatasetInfo
    summary: Summary
    variant: str | None = None
    group: str = "other"
    description: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    size: str | None = None
    seed: int = 0
    folds: list[FoldResult] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    compute: Compute = field(default_factory=Compute)
    provenance: Provenance = field(default_factory=Provenance)
    results_path: str | None = None

    @property
    def label(self) -> str:
        """``experiment`` or ``experiment (variant)``: how every table and figure names the run."""
        return self.experiment + (f" ({self.variant})" if self.variant else "")

    @property
    def robustness_drop(self) -> float | None:
        """``summary.robustness.mean_drop`` (``None`` without a robustness measurement)."""
        return None if self.summary.robustness is None else self.summary.robustness.mean_drop

    @property
    def muq(self) -> str | None:
        """The audio experiments' ``muq`` preset value (``None`` for experiments without a MuQ backbone)."""
        inner = self.config.get("config")
        return str(inner["muq"]) if isinstance(inner, dict) and "muq" in inner else None

    @property
    def muq_weights(self) -> str | None:
        """The ``--muq-weights`` the run was given (``None`` without)."""
        weights = self.provenance.options.get("muq_weights")
        return None if weights in (None, "", "None") else weights

    @property
    def tiny_muq(self) -> bool:
        """An audio run on the random test-size MuQ (``muq: tiny``, or ``auto`` without ``--muq-weights``)."""
        return self.muq == "tiny" or (self.muq == "auto" and self.muq_weights is None)

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-ready dicts and lists, keys in the file's order (``results_path`` left out)."""
        return {k: _encode(getattr(self, k)) for k in _KEY_ORDER}

    @classmethod
    def from_json(cls, doc: Any, path: str | PathLike[str] | None = None) -> ResultsRecord:
        """The record of a parsed ``results.json``; a malformed one is a :class:`PianoDataError` naming ``path``."""
        if not isinstance(doc, dict):
            raise PianoDataError(path, "not a piano-eval results file (not a JSON object)")
        if "format" in doc and doc["format"] != RESULTS_FORMAT:
            raise PianoDataError(path, f"results format {doc['format']!r} is not {RESULTS_FORMAT}")
        stored = {k: v for k, v in doc.items() if k != "results_path"}
        try:
            record = _decode(cls, stored, "")
        except _Malformed as exc:
            raise PianoDataError(path, f"not a valid piano-eval results file ({exc})") from None
        return dataclasses.replace(record, results_path=None if path is None else str(path))


def save_results(record: ResultsRecord, path: Path) -> ResultsRecord:
    """Write ``record`` to ``path`` atomically (temporary name, then rename); returns it with ``results_path``."""
    from piano_eval.provenance import write_json_atomic

    return dataclasses.replace(record, results_path=str(write_json_atomic(Path(path), record.to_json())))


def load_results(path: str | PathLike[str]) -> ResultsRecord:
    """Load one ``results.json`` (or the ``results.json`` inside a results folder), validated."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise PianoDataError(p, "results file not found")
    return ResultsRecord.from_json(read_json(p, "not a valid results file"), p)


# --- one encoder and one validating decoder for every dataclass above ----------------------------------------


class _Malformed(ValueError):
    """Internal: where in the document and what is wrong; :meth:`ResultsRecord.from_json` names the file."""


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, value: Any, where: str) -> Any:
    """``value`` (parsed JSON) checked against the type ``tp`` and built into it; ``where`` names the field."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value, where)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value, where)
    if origin is list:
        seq = _expect(value, list, "a list", where)
        return [_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(seq)]
    if origin is dict:
        mapping = _expect(value, dict, "an object", where)
        return {k: _decode(args[1], v, f"{where}.{k}") for k, v in mapping.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Malformed(f"{where}: expected a number, got {value!r:.40}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Malformed(f"{where}: expected an integer, got {value!r:.40}")
        return value
    return _expect(value, tp, tp.__name__, where)


def _decode_dataclass(cls: type[T], value: Any, where: str) -> T:
    items = _expect(value, dict, "an object", where or "document")
    hints = get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = f"{where}.{f.name}" if where else f.name
        if f.name in items:
            kwargs[f.name] = _decode(hints[f.name], items[f.name], name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _Malformed(f"no {name!r}")
    return cls(**kwargs)


def _expect(value: Any, tp: type[T], what: str, where: str) -> T:
    if not isinstance(value, tp):
        raise _Malformed(f"{where}: expected {what}, got {value!r:.40}")
    return value
