"""When to show progress bars: only on a terminal, and never with ``--quiet`` (``PIANO_EVAL_QUIET=1``).

tqdm writes carriage-return lines to stderr; in a log file or CI output they pile up as noise. Every progress
bar in the project asks :func:`progress_disabled` whether to draw itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["QUIET_ENV", "progress_disabled", "quiet_progress", "set_quiet"]

#: Set to ``1`` (by ``piano-eval --quiet``) to silence every progress bar.
QUIET_ENV = "PIANO_EVAL_QUIET"


def set_quiet(quiet: bool = True) -> None:
    """Silence (or allow again) every progress bar of this process and of the processes it starts."""
    if quiet:
        os.environ[QUIET_ENV] = "1"
    else:
        os.environ.pop(QUIET_ENV, None)


@contextmanager
def quiet_progress(quiet: bool = True) -> Iterator[None]:
    """Within the block, no progress bar is drawn when ``quiet``; the previous setting comes back after."""
    before = os.environ.get(QUIET_ENV)
    if quiet:
        set_quiet(True)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(QUIET_ENV, None)
        else:
            os.environ[QUIET_ENV] = before


def progress_disabled(progress: bool = True) -> bool:
    """``True`` when a progress bar must not be drawn: the caller turned it off, ``--quiet`` is in force, or
    stderr is not a terminal (a log file, a pipe, CI)."""
    if not progress or os.environ.get(QUIET_ENV, "") not in ("", "0"):
        return True
    try:
        return not sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return True
