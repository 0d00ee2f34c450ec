"""User-facing errors of piano_eval (bad data files raise ``piano_data.errors.PianoDataError``)."""

from __future__ import annotations


class UsageError(Exception):
    """A wrong name or option value (unknown split, experiment, preset key). The CLI prints it and exits 2."""
