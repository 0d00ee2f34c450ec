"""The soundfont registry: finds installed soundfonts by short name and says clearly which one is missing.

Known names and the Debian packages that ship them:

=================  ==============================  ======================================
name               file                            package
=================  ==============================  ======================================
``fluidr3``        ``FluidR3_GM.sf2``              ``fluid-soundfont-gm``
``timgm6mb``       ``TimGM6mb.sf2``                ``timgm6mb-soundfont``
``musescore_lite`` ``MuseScore_General_Lite.sf3``  ``musescore-general-soundfont-small``
=================  ==============================  ======================================

Search order: the folders in ``$PIANO_SOUNDFONT_DIRS`` (``os.pathsep``-separated), then the system folders
``/usr/share/sounds/{sf2,sf3}``, ``/usr/share/soundfonts`` and ``/usr/local/share/soundfonts``. Any other
``.sf2``/``.sf3`` file can be used by path with :meth:`Soundfont.from_path`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from os import PathLike
from pathlib import Path

from piano_data.errors import PianoDataError

__all__ = ["KNOWN_SOUNDFONTS", "Soundfont", "available_soundfonts", "find_soundfont", "soundfont_dirs"]

#: short name -> (file name, Debian package)
KNOWN_SOUNDFONTS: dict[str, tuple[str, str]] = {
    "fluidr3": ("FluidR3_GM.sf2", "fluid-soundfont-gm"),
    "timgm6mb": ("TimGM6mb.sf2", "timgm6mb-soundfont"),
    "musescore_lite": ("MuseScore_General_Lite.sf3", "musescore-general-soundfont-small"),
}
_SYSTEM_DIRS = (
    "/usr/share/sounds/sf2",
    "/usr/share/sounds/sf3",
    "/usr/share/soundfonts",
    "/usr/local/share/soundfonts",
)


@dataclass(frozen=True)
class Soundfont:
    """An installed soundfont: its short ``name``, resolved ``path`` and a cheap content ``fingerprint``."""

    name: str
    path: Path
    fingerprint: str

    @classmethod
    def from_path(cls, path: str | PathLike[str], name: str | None = None) -> Soundfont:
        """Use any soundfont file; ``name`` defaults to the file stem in lower case."""
        p = Path(path).resolve()
        if not p.is_file():
            raise PianoDataError(p, "soundfont file not found")
        if p.suffix.lower() not in (".sf2", ".sf3"):
            raise PianoDataError(p, "not a soundfont (expected .sf2 or .sf3)")
        return cls(name or p.stem.lower(), p, _fingerprint(str(p), p.stat().st_size, p.stat().st_mtime_ns))


@lru_cache(maxsize=32)
def _fingerprint(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of the size plus the first and last MiB: cheap for a 148 MB sf2, and changes when the file
    does."""
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def soundfont_dirs() -> list[Path]:
    """Folders searched for soundfonts, in order."""
    extra = [Path(d) for d in os.environ.get("PIANO_SOUNDFONT_DIRS", "").split(os.pathsep) if d]
    return extra + [Path(d) for d in _SYSTEM_DIRS]


def find_soundfont(name: str) -> Soundfont:
    """The installed soundfont called ``name`` (see :data:`KNOWN_SOUNDFONTS`), or a path to a soundfont file.

    Raises :class:`PianoDataError` naming the Debian package to install when it is missing.
    """
    if name not in KNOWN_SOUNDFONTS:
        if Path(name).suffix.lower() in (".sf2", ".sf3"):
            return Soundfont.from_path(name)
        known = ", ".join(KNOWN_SOUNDFONTS)
        raise PianoDataError(None, f"unknown soundfont {name!r}; known names: {known} (or a path to a .sf2/.sf3)")
    filename, package = KNOWN_SOUNDFONTS[name]
    for folder in soundfont_dirs():
        candidate = folder / filename
        if candidate.is_file():
            return Soundfont.from_path(candidate, name)
    where = ", ".join(str(d) for d in soundfont_dirs())
    raise PianoDataError(
        None,
        f"soundfont {name!r} ({filename}) is not installed: apt-get install {package} (searched {where})",
    )


def available_soundfonts() -> dict[str, Path]:
    """``{name: path}`` of the known soundfonts that are installed."""
    found: dict[str, Path] = {}
    for name in KNOWN_SOUNDFONTS:
        try:
            found[name] = find_soundfont(name).path
        except PianoDataError:
            continue
    return found
