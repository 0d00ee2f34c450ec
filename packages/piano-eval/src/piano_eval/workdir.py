"""Temporary work folders for training runs (Lightning logs and checkpoints), removed unless kept.

Every fit writes its top-k full checkpoints and logs under the run's work folder; without clean-up each run
would leave hundreds of megabytes in the system temp folder. :func:`work_folder` removes the folder when the
block ends (also on errors) unless ``keep`` (``--keep-workdir``), and then logs where it is.
:func:`session_work_folder` is the same for interactive use (notebooks), removed when the interpreter exits.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["session_work_folder", "work_folder"]

log = logging.getLogger(__name__)


@contextmanager
def work_folder(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A new folder under the system temp folder for the block; removed at its end unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            log.warning("work folder kept: %s", path)
        else:
            shutil.rmtree(path, ignore_errors=True)


def session_work_folder(prefix: str, keep: bool = False) -> Path:
    """A new temp folder removed when the Python process exits (unless ``keep``): for notebooks, whose figures
    read the training logs after the runs."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if not keep:
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
