"""Atomic writes: a file or folder appears at its name whole, or not at all. The one owner of this in the workspace.

:func:`atomic_path` yields a fresh temporary path beside the target (same folder, so the rename never crosses a
file system), named ``.<name>.<random>.tmp`` (plus ``suffix`` for writers that pick a format from the file
extension); the caller writes it by any means (``open``, ``np.save``, ``savefig``, ``save_file``...). On success
it is renamed over the target with :func:`os.replace` (atomic on POSIX and Windows); on any exception, including
``KeyboardInterrupt``, it is removed and the exception re-raised, so the previous file, if any, is untouched.
A process killed mid-write leaves only a hidden ``.*.tmp`` file (``EmbeddingCache.prune`` sweeps its own).

Each call gets its own temporary name (created with ``O_EXCL``), so concurrent writers to one target never
write into each other's file: the last rename wins and the target is always one writer's complete file. The
temporary file is created with mode ``0o666`` less the umask, as ``open`` would, not ``mkstemp``'s ``0o600``.

:func:`atomic_dir` does the same for a whole folder (a checkpoint: weights, config, tokenizer...): it yields a
fresh hidden folder ``.<name>.<random>.tmpdir`` beside the target to fill, and on success swaps it into place.
A folder cannot be renamed over a non-empty one, so an existing target is first renamed aside to a unique
``.<name>.<random>.replaced``, the new folder renamed in, and the aside copy removed: a kill at any point leaves
the new folder or the old one, at its name or aside (:func:`replaced_dirs` finds it); the next success removes
the aside copies of interrupted swaps. Concurrent writers each swap their own complete folder in; the last wins.

Standard library only: CLI start-up paths import this.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from os import PathLike
from pathlib import Path

__all__ = ["atomic_dir", "atomic_path", "replaced_dirs", "write_bytes_atomic", "write_text_atomic"]

_ATTEMPTS = 100


def _token() -> str:
    return secrets.token_hex(6)


def _reserve(target: Path, ending: str, create: Callable[[Path], None]) -> Path:
    """Make a unique ``.<name>.<random><ending>`` beside ``target`` with ``create`` (which must raise
    :class:`FileExistsError` when the name is taken) and return its path."""
    for _ in range(_ATTEMPTS):
        tmp = target.with_name(f".{target.name}.{_token()}{ending}")
        try:
            create(tmp)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{target}: no free temporary name beside it after {_ATTEMPTS} attempts")


def _create_file(path: Path) -> None:
    """An empty file, exclusively (mode ``0o666`` less the umask, as ``open`` would)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    os.close(os.open(path, flags, 0o666))


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
    tmp = _reserve(target, f".tmp{suffix}", _create_file)
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


def _remove(path: Path) -> None:
    """Remove a file, link or folder tree; one that is already gone (another writer's clean-up) is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _is_aside(name: str, target: Path) -> bool:
    return re.fullmatch(rf"\.{re.escape(target.name)}\.[0-9a-f]{{12}}\.replaced", name) is not None


def replaced_dirs(path: str | PathLike[str]) -> list[Path]:
    """The old copies of ``path`` that an :func:`atomic_dir` swap renamed aside and never removed (the swap was
    killed between its renames), newest first; ``[]`` when there are none or the parent folder does not exist.
    """
    target = Path(path)
    found: list[tuple[float, Path]] = []
    try:
        entries = list(os.scandir(target.parent))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        if _is_aside(entry.name, target):
            try:
                found.append((entry.stat(follow_symlinks=False).st_mtime, Path(entry.path)))
            except FileNotFoundError:  # removed meanwhile by another writer's clean-up
                continue
    return [p for _, p in sorted(found, key=lambda t: t[0], reverse=True)]


_RACED = {errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}  # rename-in found a folder or file there


def _swap_into_place(tmp: Path, target: Path) -> None:
    for _ in range(_ATTEMPTS):
        aside = None
        if os.path.lexists(target):
            aside = target.with_name(f".{target.name}.{_token()}.replaced")
            try:
                os.replace(target, aside)
            except FileNotFoundError:  # another writer moved it aside first
                aside = None
        try:
            os.replace(tmp, target)
        except BaseException as exc:
            if isinstance(exc, OSError) and exc.errno in _RACED:
                continue  # another writer's folder arrived between our two renames: move it aside, try again
            if aside is not None and not os.path.lexists(target):
                with suppress(OSError):  # put the old one back; if that fails too, it stays findable aside
                    os.replace(aside, target)
            raise
        break
    else:
        raise FileExistsError(f"{target}: other writers kept replacing it; gave up after {_ATTEMPTS} attempts")
    for old in replaced_dirs(target):  # ours and those of interrupted swaps
        _remove(old)


@contextmanager
def atomic_dir(path: str | PathLike[str]) -> Iterator[Path]:
    """Yield a fresh empty folder beside ``path`` to fill; swap it into place of ``path`` when the block succeeds.

    The parent folder is created. An existing ``path`` (folder or file) is replaced whole: nothing of it is kept.
    On any exception, including ``KeyboardInterrupt``, the temporary folder is removed and the exception
    propagates; ``path`` keeps its previous content. See the module docstring for what a kill leaves behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _reserve(target, ".tmpdir", Path.mkdir)  # mode 0o777 less the umask
    try:
        yield tmp
        _swap_into_place(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
