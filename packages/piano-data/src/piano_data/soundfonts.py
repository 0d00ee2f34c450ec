"""The soundfont registry: finds soundfonts by short name and says clearly which one is missing.

Two soundfonts need nothing but PyPI packages, so a bare machine (no system packages) renders and has the two
timbres that cross-soundfont evaluation needs (:data:`DEFAULT_SOUNDFONTS`):

==================  ==============================  ==================================================
name                file                            where it comes from
==================  ==============================  ==================================================
``timgm6mb``        ``TimGM6mb.sf2``                Debian ``timgm6mb-soundfont`` when installed, else
                                                    the copy that the ``pretty_midi`` wheel ships
``additive_piano``  ``additive-piano-v1.sf2``       written on first use by :mod:`piano_data.sf2_piano`
                                                    under ``<cache root>/soundfonts`` (deterministic)
``fluidr3``         ``FluidR3_GM.sf2``              Debian ``fluid-soundfont-gm``
``musescore_lite``  ``MuseScore_General_Lite.sf3``  Debian ``musescore-general-soundfont-small``
==================  ==============================  ==================================================

Every name renders with TinySoundFont (the tinysoundfont wheel). A name followed by ``+fluidsynth``
(``fluidr3+fluidsynth``) renders the same file with the fluidsynth CLI instead, when it is installed: a
different synthesizer is a different timbre, so it counts as a soundfont of its own in the ``soundfont`` split.

Search order for the Debian files: the folders in ``$PIANO_SOUNDFONT_DIRS`` (``os.pathsep``-separated), then the
system folders ``/usr/share/sounds/{sf2,sf3}``, ``/usr/share/soundfonts`` and ``/usr/local/share/soundfonts``.
Any other ``.sf2``/``.sf3`` file can be used by path with :meth:`Soundfont.from_path`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from os import PathLike
from pathlib import Path
from typing import Literal

from piano_data.atomic import write_bytes_atomic
from piano_data.errors import PianoDataError
from piano_data.paths import cache_root
from piano_data.sf2_piano import ADDITIVE_VERSION

__all__ = [
    "DEFAULT_SOUNDFONTS",
    "KNOWN_SOUNDFONTS",
    "Soundfont",
    "Synth",
    "available_soundfonts",
    "find_soundfont",
    "soundfont_dirs",
]

Synth = Literal["tinysoundfont", "fluidsynth"]

#: The soundfonts every machine has (PyPI packages only): the default pair for cross-soundfont evaluation.
DEFAULT_SOUNDFONTS: tuple[str, ...] = ("timgm6mb", "additive_piano")

#: short name -> (file name, Debian package, or "" for one that PyPI packages provide)
KNOWN_SOUNDFONTS: dict[str, tuple[str, str]] = {
    "timgm6mb": ("TimGM6mb.sf2", "timgm6mb-soundfont"),
    "additive_piano": (f"{ADDITIVE_VERSION}.sf2", ""),
    "fluidr3": ("FluidR3_GM.sf2", "fluid-soundfont-gm"),
    "musescore_lite": ("MuseScore_General_Lite.sf3", "musescore-general-soundfont-small"),
}
_FLUIDSYNTH_SUFFIX = "+fluidsynth"
_SYSTEM_DIRS = (
    "/usr/share/sounds/sf2",
    "/usr/share/sounds/sf3",
    "/usr/share/soundfonts",
    "/usr/local/share/soundfonts",
)


@dataclass(frozen=True)
class Soundfont:
    """A soundfont file: its short ``name``, resolved ``path``, a cheap content ``fingerprint`` and the
    synthesizer that plays it (``tinysoundfont``, in a wheel; or the ``fluidsynth`` CLI)."""

    name: str
    path: Path
    fingerprint: str
    synth: Synth = "tinysoundfont"

    @classmethod
    def from_path(cls, path: str | PathLike[str], name: str | None = None, synth: Synth = "tinysoundfont") -> Soundfont:
        """Use any soundfont file; ``name`` defaults to the file stem in lower case."""
        p = Path(path).resolve()
        if not p.is_file():
            raise PianoDataError(p, "soundfont file not found")
        if p.suffix.lower() not in (".sf2", ".sf3"):
            raise PianoDataError(p, "not a soundfont (expected .sf2 or .sf3)")
        with p.open("rb") as f:
            head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise PianoDataError(p, "not a soundfont (no RIFF sfbk header)")
        return cls(name or p.stem.lower(), p, _fingerprint(str(p), p.stat().st_size, p.stat().st_mtime_ns), synth)


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


def _wheel_timgm6mb() -> Path | None:
    """TimGM6mb.sf2 inside the installed ``pretty_midi`` package (found without importing it)."""
    spec = find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "TimGM6mb.sf2"
        if candidate.is_file():
            return candidate
    return None


def _additive_piano(filename: str) -> Path:
    """The generated soundfont under the cache root, written atomically on first use."""
    out = cache_root() / "soundfonts" / filename
    if out.is_file():
        return out
    from piano_data.sf2_piano import additive_piano_sf2

    return write_bytes_atomic(out, additive_piano_sf2())


def _locate(name: str) -> Path | None:
    filename, _ = KNOWN_SOUNDFONTS[name]
    if name == "additive_piano":
        return _additive_piano(filename)
    for folder in soundfont_dirs():
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    return _wheel_timgm6mb() if name == "timgm6mb" else None


def find_soundfont(name: str) -> Soundfont:
    """The soundfont called ``name`` (see :data:`KNOWN_SOUNDFONTS`, optionally with ``+fluidsynth``), or a path
    to a soundfont file.

    Raises :class:`PianoDataError` naming the Debian package to install when it is missing.
    """
    synth: Synth = "tinysoundfont"
    base = name
    if name.endswith(_FLUIDSYNTH_SUFFIX):
        base, synth = name[: -len(_FLUIDSYNTH_SUFFIX)], "fluidsynth"
        if shutil.which("fluidsynth") is None:
            raise PianoDataError(None, f"soundfont {name!r} needs the fluidsynth CLI: apt-get install fluidsynth")
    if base not in KNOWN_SOUNDFONTS:
        if Path(base).suffix.lower() in (".sf2", ".sf3"):
            return Soundfont.from_path(base, synth=synth)
        known = ", ".join(KNOWN_SOUNDFONTS)
        raise PianoDataError(
            None,
            f"unknown soundfont {name!r}; known names: {known}, each optionally with {_FLUIDSYNTH_SUFFIX} "
            "(or a path to a .sf2/.sf3)",
        )
    path = _locate(base)
    if path is not None:
        return Soundfont.from_path(path, name, synth)
    filename, package = KNOWN_SOUNDFONTS[base]
    where = ", ".join(str(d) for d in soundfont_dirs())
    raise PianoDataError(
        None,
        f"soundfont {name!r} ({filename}) is not installed: apt-get install {package} (searched {where}); "
        f"{' and '.join(DEFAULT_SOUNDFONTS)} need no system package",
    )


def available_soundfonts() -> dict[str, Path]:
    """``{name: path}`` of the known soundfonts that are installed (the generated one is written on first
    use), plus ``<name>+fluidsynth`` for each when the fluidsynth CLI is installed."""
    found: dict[str, Path] = {}
    for name, (filename, _) in KNOWN_SOUNDFONTS.items():
        path = cache_root() / "soundfonts" / filename if name == "additive_piano" else _locate(name)
        if path is not None:
            found[name] = path
    if shutil.which("fluidsynth") is not None:
        found.update({f"{name}{_FLUIDSYNTH_SUFFIX}": path for name, path in list(found.items())})
    return found
