"""The results document of one run (``results.json``): its format version, the reader, and a typed record.

:func:`piano_eval.runner.run_cv` writes the document; :func:`load_results` reads and validates it; every table
and figure reads the fields it shows through :class:`ResultsRecord` (label, metrics, compute, which MuQ ran)
instead of picking string keys out of the nested dict itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from piano_data.errors import PianoDataError, read_json

__all__ = ["RESULTS_FORMAT", "ResultsRecord", "load_results"]

#: Version of the results document; a reader refuses any other.
RESULTS_FORMAT = 1


def load_results(path: str | PathLike[str]) -> dict[str, Any]:
    """Load one ``results.json`` (or the ``results.json`` inside a results folder), validated."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise PianoDataError(p, "results file not found")
    doc = read_json(p, "not a valid results file")
    if not isinstance(doc, dict):
        raise PianoDataError(p, "not a piano-eval results file (not a JSON object)")
    for key in ("experiment", "split", "summary", "dataset"):
        if key not in doc:
            raise PianoDataError(p, f"not a piano-eval results file (no {key!r})")
    if doc.get("format") != RESULTS_FORMAT:
        raise PianoDataError(p, f"results format {doc.get('format')} is not {RESULTS_FORMAT}")
    doc.setdefault("results_path", str(p))
    return doc


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ResultsRecord:
    """The headline fields of a results document, typed.

    ``muq`` is the audio experiments' ``muq`` preset value (``None`` for experiments without a MuQ backbone),
    ``muq_weights`` the ``--muq-weights`` the run was given (``None`` without).
    """

    experiment: str
    variant: str | None
    group: str
    split: str
    dataset: str
    size: str | None
    n_folds: int
    r2: float | None
    r2_std: float | None
    r2_no_deadpan: float | None
    r2_no_deadpan_std: float | None
    r2_within_work: float | None
    r2_within_work_std: float | None
    pairwise_accuracy: float | None
    pairwise_accuracy_std: float | None
    robustness_drop: float | None
    difficulty_rho: float | None
    cpu_hours: float
    gpu_hours: float
    muq: str | None
    muq_weights: str | None
    results_path: str | None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ResultsRecord:
        s, c = doc["summary"], doc.get("compute") or {}
        config = (doc.get("config") or {}).get("config") or {}
        weights = ((doc.get("provenance") or {}).get("options") or {}).get("muq_weights")
        return cls(
            experiment=str(doc["experiment"]),
            variant=doc.get("variant") or None,
            group=str(doc.get("group", "other")),
            split=str(doc["split"]),
            dataset=str(doc["dataset"]["name"]),
            size=doc.get("size"),
            n_folds=len(doc.get("folds", [])),
            r2=_float(s.get("r2")),
            r2_std=_float(s.get("r2_std")),
            r2_no_deadpan=_float(s.get("r2_no_deadpan")),
            r2_no_deadpan_std=_float(s.get("r2_no_deadpan_std")),
            r2_within_work=_float(s.get("r2_within_work")),
            r2_within_work_std=_float(s.get("r2_within_work_std")),
            pairwise_accuracy=_float(s.get("pairwise_accuracy")),
            pairwise_accuracy_std=_float(s.get("pairwise_accuracy_std")),
            robustness_drop=_float((s.get("robustness") or {}).get("mean_drop")),
            difficulty_rho=_float((doc.get("difficulty") or {}).get("spearman")),
            cpu_hours=float(c.get("cpu_hours", 0.0)),
            gpu_hours=float(c.get("gpu_hours", 0.0)),
            muq=str(config["muq"]) if "muq" in config else None,
            muq_weights=None if weights in (None, "", "None") else str(weights),
            results_path=doc.get("results_path"),
        )

    @property
    def label(self) -> str:
        """``experiment`` or ``experiment (variant)``: how tables and figures name the run."""
        return self.experiment + (f" ({self.variant})" if self.variant else "")

    @property
    def tiny_muq(self) -> bool:
        """An audio run on the random test-size MuQ (``muq: tiny``, or ``auto`` without ``--muq-weights``)."""
        return self.muq == "tiny" or (self.muq == "auto" and self.muq_weights is None)
