"""Shared helpers of the manifest-reading tier loaders: CSV/JSON rows, column checks, counted skips."""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from pathlib import Path

from piano_data.errors import PianoDataError

log = logging.getLogger("piano_data.tiers")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (header line) or JSON manifest (a list of objects, ``{"rows": [...]}``, or pandas-style
    column-oriented ``{column: {row: value}}``). Values become strings; ``None`` becomes ``""``."""
    if not path.is_file():
        raise PianoDataError(path, "manifest not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PianoDataError(path, f"manifest is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PianoDataError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise PianoDataError(path, "JSON nested too deeply to be a manifest") from None
        if isinstance(data, dict) and "rows" in data:
            data = data["rows"]
        if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
            columns = list(data)
            index = list(data[columns[0]])
            data = [{c: data[c].get(i) for c in columns} for i in index]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise PianoDataError(path, "JSON manifest must be a list of objects (or column-oriented)")
        return [{str(k): "" if v is None else str(v) for k, v in r.items()} for r in data]
    try:
        reader = csv.DictReader(text.splitlines())
        return [{k: (v if isinstance(v, str) else "").strip() for k, v in r.items() if k is not None} for r in reader]
    except csv.Error as exc:
        raise PianoDataError(path, f"not a readable CSV manifest ({exc})") from None


def require_columns(path: Path, rows: list[dict[str, str]], required: tuple[str, ...]) -> None:
    """Raise naming every missing column (checked on the union of the rows' keys)."""
    if not rows:
        raise PianoDataError(path, "manifest has no rows")
    present = set().union(*(r.keys() for r in rows))
    missing = [c for c in required if c not in present]
    if missing:
        raise PianoDataError(
            path, f"manifest is missing column(s) {', '.join(missing)} (has: {', '.join(sorted(present))})"
        )


class SkipCounter:
    """Counts skipped rows by reason; logs one summary line per reason (and raises instead when strict)."""

    def __init__(self, what: str, strict: bool = False) -> None:
        self.what, self.strict = what, strict
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def skip(self, path: Path | str | None, reason: str) -> None:
        if self.strict:
            raise PianoDataError(path, reason)
        self.counts[reason] += 1
        self.examples.setdefault(reason, str(path))

    def report(self) -> None:
        for reason, n in self.counts.items():
            log.warning("%s: skipped %d row(s): %s (e.g. %s)", self.what, n, reason, self.examples[reason])

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def optional_path(root: Path, value: str) -> Path | None:
    """``root / value`` if ``value`` is set and the file exists, else ``None``."""
    if not value:
        return None
    p = root / value
    return p if p.exists() else None
