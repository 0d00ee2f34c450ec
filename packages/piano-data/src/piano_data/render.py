"""MIDI -> 24 kHz mono float32 audio with several soundfonts, cached by content hash; no system package needed.

The default synthesizer is TinySoundFont (the ``tinysoundfont`` wheel), driven offline: every note is struck at
its onset with its own velocity (TinySoundFont scales the level linearly with velocity and picks the soundfont's
velocity layer) by the soundfont's piano (program 0; drum tracks are dropped). It implements no sustain pedal, so
this module does: the pedal (CC64) lengthens each note to the pedal's release, and a new strike of the same key
cuts the old one (:func:`sustained_offsets`). Until 2026-12 the default was symusic 0.5's synthesizer, which
played TimGM6mb 4-14 semitones off pitch; those cache entries are never reused (new version key). A soundfont
named ``<name>+fluidsynth`` renders with the fluidsynth CLI instead (``fluidsynth -ni -q -O float -T wav``, stereo
only, then downmixed), which applies velocity, pedal and programs itself.

Either way the audio is downmixed to mono, its silent tail trimmed and written to
``<cache_dir>/<soundfont>/<h[:2]>/<h>.wav`` atomically, where ``h`` hashes the MIDI bytes, the soundfont
fingerprint and synthesizer and the :class:`RenderConfig`. A second render of the same input is a file lookup.
The soundfont is recorded on every rendered sample (``Segment.extra['soundfont']``), so cross-soundfont
leave-one-out evaluation (``make_folds(..., "soundfont")``) is possible.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from os import PathLike
from pathlib import Path

import numpy as np
import soundfile as sf
import tinysoundfont
from tqdm.auto import tqdm

from piano_data.audio_io import to_mono, write_audio
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError
from piano_data.midi import NoteArray, load_midi, read_notes
from piano_data.progress import progress_disabled
from piano_data.samples import Segment
from piano_data.soundfonts import Soundfont, find_soundfont
from piano_data.tiers.unlabelled import Clip

__all__ = [
    "RenderConfig",
    "RenderReport",
    "RenderResult",
    "render_all",
    "render_clips",
    "render_midi",
    "render_segments",
    "trim_silent_tail",
]

log = logging.getLogger(__name__)
_RENDER_VERSION = "render-v1"  # fluidsynth renders (unchanged, so their cache entries stay valid)
# the wheel-only renderer; "render-symusic-v1" entries (symusic 0.5, TimGM6mb 4-14 semitones off) are never reused
_WHEEL_VERSION = "render-tinysoundfont-v2"
_RELEASE_S = 2.0  # rendered after the last note-off; trim_silent_tail cuts what is silent
_MAX_VOICES = 256
_SOUNDFONTS = threading.local()  # each soundfont file's bytes, read once per thread


@dataclass(frozen=True)
class RenderConfig:
    """How MIDI becomes audio. Every field is part of the cache key.

    ``trim_db`` is relative to the clip's peak: the tail after the last sample above it (plus ``tail_pad_s``)
    is cut. Reverb and chorus are off by default so that room acoustics come only from the AudioAugmentor.
    """

    sample_rate: int = SAMPLE_RATE
    gain: float = 1.0
    reverb: bool = False
    chorus: bool = False
    trim_db: float = -60.0
    tail_pad_s: float = 0.25
    min_seconds: float = 0.05
    timeout_s: float = 600.0


@dataclass(frozen=True)
class RenderResult:
    """One rendered file: where it is, which soundfont, its duration and whether it came from the cache."""

    path: Path
    soundfont: str
    seconds: float
    cached: bool
    digest: str


@dataclass
class RenderReport:
    """What :func:`render_all` did: the rendered segments plus counts and timings."""

    segments: list[Segment] = field(default_factory=list)
    hits: int = 0
    misses: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key@soundfont, problem)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def x_realtime(self) -> float:
        """Seconds of audio produced per wall-clock second."""
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def _fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise PianoDataError(None, "the fluidsynth CLI is not installed: apt-get install fluidsynth")
    return exe


def trim_silent_tail(audio: np.ndarray, sample_rate: int, trim_db: float = -60.0, pad_s: float = 0.25) -> np.ndarray:
    """Cut everything after the last sample within ``trim_db`` of the peak, keeping ``pad_s`` of release."""
    if len(audio) == 0:
        return audio
    peak = float(np.max(np.abs(audio)))
    if peak == 0.0:
        return audio[:0]
    threshold = max(peak * 10 ** (trim_db / 20), 1e-6)
    loud = np.flatnonzero(np.abs(audio) > threshold)
    end = min(len(audio), int(loud[-1]) + 1 + int(pad_s * sample_rate))
    return audio[:end]


def _digest(midi_bytes: bytes, soundfont: Soundfont, config: RenderConfig) -> str:
    h = hashlib.sha256(midi_bytes)
    h.update(soundfont.fingerprint.encode())
    version = _RENDER_VERSION if soundfont.synth == "fluidsynth" else _WHEEL_VERSION
    h.update(json.dumps({**asdict(config), "v": version, "timeout_s": None}, sort_keys=True).encode())
    return h.hexdigest()[:32]


def _soundfont_bytes(sfont: Soundfont) -> bytes:
    cache: dict[tuple[str, str], bytes] = _SOUNDFONTS.__dict__.setdefault("data", {})
    key = (str(sfont.path), sfont.fingerprint)
    if key not in cache:
        cache[key] = sfont.path.read_bytes()
    return cache[key]


def sustained_offsets(notes: NoteArray) -> np.ndarray:
    """Each note's offset as the sustain pedal makes it sound: a note released while the pedal is down lasts
    until the pedal comes up, or until the same key is struck again, whichever is first."""
    offset = notes.offset.copy()
    for start, end in notes.pedal:
        held = (offset >= start) & (offset < end)
        offset[held] = end
    for pitch in np.unique(notes.pitch):
        idx = np.flatnonzero(notes.pitch == pitch)  # already sorted by onset
        if len(idx) > 1:
            nxt = notes.onset[idx[1:]]
            offset[idx[:-1]] = np.maximum(notes.onset[idx[:-1]], np.minimum(offset[idx[:-1]], nxt))
    return offset


def _render_tinysoundfont(midi: Path, sfont: Soundfont, cfg: RenderConfig) -> tuple[np.ndarray, int]:
    """Mono audio of ``midi`` with TinySoundFont: note-ons at the onsets, note-offs at the pedal-sustained offsets
    (see the module doc), then ``_RELEASE_S`` of release tail."""
    notes = read_notes(midi)
    offset = sustained_offsets(notes)
    sr = cfg.sample_rate
    synth = tinysoundfont.Synth(samplerate=sr)
    try:
        sfid = synth.sfload(_soundfont_bytes(sfont), max_voices=_MAX_VOICES)
        synth.program_select(0, sfid, 0, 0)
    except Exception as exc:  # TinySoundFont raises RuntimeError/ValueError with terse messages
        raise PianoDataError(sfont.path, f"tinysoundfont cannot load this soundfont ({exc})") from None
    # events as (sample, kind, pitch, velocity); kind 0 = note-off sorts before a note-on at the same sample,
    # so a re-struck key (cut by sustained_offsets at the new onset) is released first and then struck again
    on = np.rint(notes.onset * sr).astype(np.int64)
    off = np.maximum(np.rint(offset * sr).astype(np.int64), on + 1)
    velocity = np.clip(notes.velocity, 1, 127).astype(np.int64)
    events = sorted(
        [(int(t), 1, int(p), int(v)) for t, p, v in zip(on, notes.pitch, velocity, strict=True)]
        + [(int(t), 0, int(p), 0) for t, p in zip(off, notes.pitch, strict=True)]
    )
    total = (events[-1][0] if events else 0) + int(_RELEASE_S * sr)
    buffer = np.zeros(2 * total, dtype=np.float32)  # interleaved stereo, filled in place
    view = buffer.data.cast("B")  # generate_simple writes float32 frames into byte slices of this view
    pos = 0
    for t, kind, pitch, vel in events:
        if t > pos:
            synth.generate_simple(t - pos, buffer=view[8 * pos : 8 * t])
            pos = t
        if kind:
            synth.noteon(0, pitch, vel)
        else:
            synth.noteoff(0, pitch)
    synth.generate_simple(total - pos, buffer=view[8 * pos : 8 * total])
    out = to_mono(buffer.reshape(-1, 2)) * np.float32(cfg.gain)
    return out.astype(np.float32, copy=False), sr


def _render_fluidsynth(midi: Path, sfont: Soundfont, cfg: RenderConfig) -> tuple[np.ndarray, int]:
    """Mono audio of ``midi`` with the fluidsynth CLI."""
    load_midi(midi)  # a clear PianoDataError for corrupt or empty MIDI before fluidsynth sees it
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        raw = Path(tmp) / "stereo.wav"
        cmd = [
            _fluidsynth(),
            "-ni",
            "-q",
            "-g",
            str(cfg.gain),
            "-r",
            str(cfg.sample_rate),
            "-O",
            "float",
            "-T",
            "wav",
            "-o",
            "synth.dynamic-sample-loading=1",  # load only the presets the MIDI uses: same audio, 2-3x faster
            "-R",
            "1" if cfg.reverb else "0",
            "-C",
            "1" if cfg.chorus else "0",
            "-F",
            str(raw),
            str(sfont.path),
            str(midi),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cfg.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PianoDataError(midi, f"fluidsynth took longer than {cfg.timeout_s:.0f} s") from None
        if proc.returncode != 0 or not raw.is_file():
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise PianoDataError(midi, f"fluidsynth failed ({msg[-1] if msg else f'exit {proc.returncode}'})")
        data, sr = sf.read(str(raw), dtype="float32", always_2d=True)
    return to_mono(data), sr


def render_midi(
    midi_path: str | PathLike[str],
    soundfont: str | Soundfont,
    cache_dir: str | PathLike[str],
    config: RenderConfig | None = None,
) -> RenderResult:
    """Render one MIDI file (cached). Raises :class:`PianoDataError` for a bad MIDI, a missing soundfont, a
    synthesizer failure or silent output; never leaves a partial file in the cache."""
    cfg = config or RenderConfig()
    sfont = soundfont if isinstance(soundfont, Soundfont) else find_soundfont(soundfont)
    midi = Path(midi_path)
    if not midi.is_file():
        raise PianoDataError(midi, "MIDI file not found")
    digest = _digest(midi.read_bytes(), sfont, cfg)
    out = Path(cache_dir) / sfont.name / digest[:2] / f"{digest}.wav"
    if out.is_file():
        try:
            seconds = sf.info(str(out)).duration
        except (sf.LibsndfileError, RuntimeError):
            log.warning("%s: unreadable cached render, rendering again", out)
        else:
            if seconds > 0:
                return RenderResult(out, sfont.name, seconds, True, digest)
            log.warning("%s: empty cached render, rendering again", out)  # never written by this module
    if sfont.synth == "fluidsynth":
        data, sr = _render_fluidsynth(midi, sfont, cfg)
    else:
        data, sr = _render_tinysoundfont(midi, sfont, cfg)
    audio = trim_silent_tail(data, sr, cfg.trim_db, cfg.tail_pad_s)
    if len(audio) < cfg.min_seconds * sr:
        raise PianoDataError(midi, f"rendered audio is silent or shorter than {cfg.min_seconds} s with {sfont.name}")
    write_audio(out, audio, sr)
    return RenderResult(out, sfont.name, len(audio) / sr, False, digest)


def render_all(
    segments: Sequence[Segment],
    soundfonts: Sequence[str | Soundfont],
    cache_dir: str | PathLike[str],
    *,
    config: RenderConfig | None = None,
    workers: int = 1,
    strict: bool = False,
    progress: bool = True,
) -> RenderReport:
    """Render every segment with every soundfont (soundfont-major order) and report hits, misses and skips.

    Each returned segment is a copy with key ``<key>@<soundfont>`` (unique across soundfonts), ``audio_path``
    set, the same labels, and ``extra['soundfont']``, ``extra['base_key']`` (the original key) and
    ``extra['render_digest']`` added. Bad inputs are logged and counted in ``skipped``; with ``strict=True``
    the first one raises instead. A missing soundfont always raises, before any work.
    """
    fonts = [s if isinstance(s, Soundfont) else find_soundfont(s) for s in soundfonts]
    cfg = config or RenderConfig()
    jobs = [(seg, sfont) for sfont in fonts for seg in segments]
    report = RenderReport()
    start = time.perf_counter()

    def work(job: tuple[Segment, Soundfont]) -> RenderResult | PianoDataError:
        try:
            return render_midi(job[0].midi_path, job[1], cache_dir, cfg)
        except PianoDataError as exc:
            if strict:
                raise
            return exc

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(work, jobs)
        for (seg, sfont), res in tqdm(
            zip(jobs, results, strict=True), total=len(jobs), desc="render", disable=progress_disabled(progress)
        ):
            if isinstance(res, PianoDataError):
                report.skipped.append((f"{seg.key}@{sfont.name}", str(res)))
                log.warning("skipped %s with %s: %s", seg.key, sfont.name, res)
                continue
            report.hits += res.cached
            report.misses += not res.cached
            report.audio_seconds += res.seconds
            extra = {
                **seg.extra,
                "soundfont": res.soundfont,
                "base_key": seg.key,
                "render_digest": res.digest,
            }
            report.segments.append(replace(seg, key=f"{seg.key}@{res.soundfont}", audio_path=res.path, extra=extra))
    report.wall_seconds = time.perf_counter() - start
    if report.skipped:
        log.warning("rendering skipped %d of %d (segment, soundfont) jobs", len(report.skipped), len(jobs))
    return report


def render_segments(
    segments: Sequence[Segment],
    soundfonts: Sequence[str | Soundfont],
    cache_dir: str | PathLike[str],
    *,
    config: RenderConfig | None = None,
    workers: int = 1,
    strict: bool = False,
    progress: bool = True,
) -> list[Segment]:
    """The segments rendered with each soundfont (see :func:`render_all`, which also returns the counts)."""
    return render_all(
        segments, soundfonts, cache_dir, config=config, workers=workers, strict=strict, progress=progress
    ).segments


def render_clips(
    clips: Sequence[Clip],
    soundfonts: Sequence[str | Soundfont],
    cache_dir: str | PathLike[str],
    *,
    config: RenderConfig | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[Clip]:
    """Audio clips for MIDI clips (T4): each MIDI file is rendered once per soundfont (cached) and every clip
    becomes the same span of the rendered audio (key ``<key>@<soundfont>``, ``content_hash`` the render
    digest). Audio clips pass through unchanged. Bad MIDI files are logged, counted skips (errors with
    ``strict=True``)."""
    fonts = [s if isinstance(s, Soundfont) else find_soundfont(s) for s in soundfonts]
    cfg = config or RenderConfig()
    out: list[Clip] = [c for c in clips if c.kind == "audio"]
    midi_clips = [c for c in clips if c.kind == "midi"]
    rendered: dict[tuple[Path, str], RenderResult | None] = {}
    failed = 0
    for sfont in fonts:
        for c in tqdm(midi_clips, desc=f"render clips ({sfont.name})", disable=progress_disabled(progress)):
            job = (c.path, sfont.name)
            if job not in rendered:
                try:
                    rendered[job] = render_midi(c.path, sfont, cache_dir, cfg)
                except PianoDataError as exc:
                    if strict:
                        raise
                    log.warning("skipped %s with %s: %s", c.path, sfont.name, exc)
                    rendered[job], failed = None, failed + 1
            res = rendered[job]
            if res is None or c.start_s >= res.seconds:
                continue
            end = min(c.end_s, res.seconds)
            out.append(
                replace(
                    c,
                    key=f"{c.key}@{sfont.name}",
                    path=res.path,
                    kind="audio",
                    end_s=end,
                    content_hash=res.digest,
                )
            )
    if failed:
        log.warning("render_clips skipped %d (MIDI file, soundfont) renders", failed)
    return out
