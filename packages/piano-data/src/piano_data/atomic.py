"""Atomic file writes: a file appears at its name whole, or not at all. The one owner of this in the workspace.

:func:`atomic_path` yields a fresh temporary path beside the target (same folder, so the rename never crosses a
file system), named ``.<name>.<random>.tmp`` (plus ``suffix`` for writers that pick a format from the file
extension); the caller writes it by any means (``open``, ``np.save``, ``savefig``, ``save_file``...). On success
it is renamed over the target with :func:`os.replace` (atomic on POSIX and Windows); on any exception, including
``KeyboardInterrupt``, it is removed and the exception re-raised, so the previous file, if any, is untouched.
A process killed mid-write leaves only a hidden ``.*.tmp`` file (``EmbeddingCache.prune`` sweeps its own).

Each call gets its own temporary name (created with ``O_EXCL``), so concurrent writers to one target never
write into each other's file: the last rename wins and the target is always one writer's complete file. The
temporary file is created with mode ``0o666`` less the umask, as ``open`` would, not ``mkstemp``'s ``0o600``.

Standard library only: CLI start-up paths import this.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_text_atomic"]

_ATTEMPTS = 100


def _reserve(target: Path, suffix: str) -> Path:
    """Create an empty, unique temporary file beside ``target`` and return its path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(_ATTEMPTS):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp{suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{target}: no free temporary name beside it after {_ATTEMPTS} attempts")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | PathLike[str], *, suffix: str = "", fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; rename it onto ``path`` when the block succeeds.

    The parent folder is created. ``suffix`` (e.g. ``".png"``) ends the temporary name, for libraries that pick
    the format from it. With ``fsync`` the written bytes are flushed to disk before the rename (for caches that
    must survive a power cut, not only a killed process). On any exception the temporary file is removed and
    the exception propagates; ``path`` keeps its previous content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _reserve(target, suffix)
    try:
        yield tmp
        if fsync:
            _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | PathLike[str], data: bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns ``path`` as a :class:`Path`."""
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | PathLike[str], text: str, encoding: str = "utf-8", *, fsync: bool = False) -> Path:
    """Write ``text`` encoded with ``encoding`` (no newline translation) to ``path`` atomically; returns it."""
    return write_bytes_atomic(path, text.encode(encoding), fsync=fsync)
