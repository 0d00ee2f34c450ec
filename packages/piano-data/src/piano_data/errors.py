"""The one error type for bad input: it names the file and the problem."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any


class PianoDataError(ValueError):
    """Bad or missing input data. ``str(err)`` is one line: ``<path>: <problem>``.

    The CLI turns it into a one-line message and exit code 2.
    """

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")


def read_json(path: str | PathLike[str], problem: str = "not valid JSON") -> Any:
    """Parse the JSON file at ``path``; an undecodable file is a :class:`PianoDataError` ``<path>: <problem>
    (<parser message>)``. Whether the file exists and what the document must hold is the caller's to check."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PianoDataError(path, f"{problem} ({exc})") from None
