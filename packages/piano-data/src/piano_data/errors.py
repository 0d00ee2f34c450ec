"""The one error type for bad input: it names the file and the problem."""

from __future__ import annotations

from os import PathLike


class PianoDataError(ValueError):
    """Bad or missing input data. ``str(err)`` is one line: ``<path>: <problem>``.

    The CLI turns it into a one-line message and exit code 2.
    """

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")
