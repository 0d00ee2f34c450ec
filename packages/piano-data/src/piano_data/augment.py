"""The AudioAugmentor: seeded, reproducible on-the-fly audio augmentation with pedalboard DSP.

Five augmentations, drawn independently with the design's probabilities and applied in this order:
``pitch_shift`` (+/-50 cents, p=0.1), ``eq`` (random 3-band parametric EQ, p=0.2), ``room_ir`` (a room impulse
response from a folder, p=0.3), ``noise`` (folder clips or generated coloured noise at SNR 10-30 dB, p=0.3)
and ``phone_mic`` (band limit, low-pass near 8 kHz, compression, light distortion, p=0.2).

Every call takes a seed and builds its own ``numpy.random.Generator``, so the same seed gives the same output
in any process or DataLoader worker. Every call returns ``(audio, records)``: the records say what was
applied with which parameters, so robustness can be reported per augmentation.
:meth:`AudioAugmentor.apply_only` forces exactly one named augmentation (for robustness evaluation).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pedalboard as pb

from piano_data.audio_io import AUDIO_EXTENSIONS, load_audio
from piano_data.contracts import SAMPLE_RATE
from piano_data.errors import PianoDataError

__all__ = ["AUGMENTATIONS", "Applied", "AudioAugmentor", "AugmentConfig", "augmentation_id", "coloured_noise"]

log = logging.getLogger(__name__)

AugmentationName = Literal["pitch_shift", "eq", "room_ir", "noise", "phone_mic"]
#: The augmentation names in the order they are applied.
AUGMENTATIONS: tuple[AugmentationName, ...] = ("pitch_shift", "eq", "room_ir", "noise", "phone_mic")
Params = dict[str, float | str]


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges. Defaults are the design's. ``ir_dir``/``noise_dir`` of ``None`` mean a
    generated exponential-decay IR and generated coloured noise."""

    sample_rate: int = SAMPLE_RATE
    p_pitch_shift: float = 0.1
    p_eq: float = 0.2
    p_room_ir: float = 0.3
    p_noise: float = 0.3
    p_phone_mic: float = 0.2
    ir_dir: Path | None = None
    noise_dir: Path | None = None
    snr_db: tuple[float, float] = (10.0, 30.0)
    max_cents: float = 50.0
    eq_gain_db: float = 6.0
    room_wet: tuple[float, float] = (0.5, 1.0)
    noise_colours: tuple[Literal["white", "pink", "brown"], ...] = ("white", "pink", "brown")
    peak_limit: float = 0.99

    def probability(self, name: str) -> float:
        return float(getattr(self, f"p_{name}"))


@dataclass(frozen=True)
class Applied:
    """One applied augmentation and the parameters it drew."""

    name: str
    params: Params = field(default_factory=dict)


def augmentation_id(records: Sequence[Applied]) -> str:
    """A short stable id of what was applied (``"none"`` for clean audio), for embedding-cache keys."""
    if not records:
        return "none"
    blob = json.dumps([[r.name, sorted(r.params.items())] for r in records], default=str).encode()
    return "+".join(r.name for r in records) + "-" + hashlib.sha256(blob).hexdigest()[:12]


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of white, pink (1/f) or brown (1/f^2) noise with unit RMS."""
    exponent = {"white": 0.0, "pink": 1.0, "brown": 2.0}[colour]
    white = rng.standard_normal(max(n, 2))
    if exponent:
        spec = np.fft.rfft(white)
        freqs = np.fft.rfftfreq(len(white))
        freqs[0] = freqs[1]
        white = np.fft.irfft(spec / freqs ** (exponent / 2), n=len(white))
    white = white[:n] - white[:n].mean() if n > 1 else white[:n]
    rms = float(np.sqrt(np.mean(white**2))) if n else 1.0
    return (white / (rms if rms > 0 else 1.0)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def _match_rms(y: np.ndarray, ref: np.ndarray) -> np.ndarray:
    r_y, r_ref = _rms(y), _rms(ref)
    return y * np.float32(r_ref / r_y) if r_y > 0 else y


class AudioAugmentor:
    """Seeded augmentation of mono float32 audio at ``config.sample_rate``.

    ``augmentor(audio, seed)`` draws each augmentation with its probability and returns ``(audio, records)``.
    The output has the input's length, is finite and is scaled down if its peak would pass ``peak_limit``.
    Instances are picklable (DataLoader workers); IRs and noise clips are loaded lazily, once per process.
    """

    def __init__(self, config: AugmentConfig | None = None) -> None:
        self.config = config or AugmentConfig()
        self._irs: dict[str, np.ndarray] | None = None
        self._noise_files: list[Path] | None = None
        self._noise_clips: dict[str, np.ndarray] = {}
        for folder in (self.config.ir_dir, self.config.noise_dir):
            if folder is not None and not Path(folder).is_dir():
                raise PianoDataError(folder, "augmentation folder not found")

    # -- drawing ---------------------------------------------------------------------------------------------
    def plan(self, seed: int) -> list[Applied]:
        """The augmentations ``seed`` selects, with their parameters, without touching audio.

        Every augmentation's coin and parameters are drawn whether or not it is applied, so one augmentation's
        parameters never depend on whether another was drawn.
        """
        rng = np.random.default_rng(seed)
        chosen = []
        for name in AUGMENTATIONS:
            coin = rng.random()
            params = self._draw(name, rng)
            if coin < self.config.probability(name):
                chosen.append(Applied(name, params))
        return chosen

    def _draw(self, name: str, rng: np.random.Generator) -> Params:
        c = self.config
        if name == "pitch_shift":
            return {"cents": float(rng.uniform(-c.max_cents, c.max_cents))}
        if name == "eq":
            g = c.eq_gain_db
            return {
                "low_hz": float(rng.uniform(80, 300)),
                "low_db": float(rng.uniform(-g, g)),
                "mid_hz": float(np.exp(rng.uniform(np.log(300), np.log(4000)))),
                "mid_db": float(rng.uniform(-g, g)),
                "mid_q": float(rng.uniform(0.5, 2.0)),
                "high_hz": float(rng.uniform(3000, 9000)),
                "high_db": float(rng.uniform(-g, g)),
            }
        if name == "room_ir":
            irs = sorted(self._load_irs())
            return {"ir": irs[int(rng.integers(len(irs)))], "wet": float(rng.uniform(*c.room_wet))}
        if name == "noise":
            files = self._list_noise()
            source = str(files[int(rng.integers(len(files)))]) if files else str(rng.choice(list(c.noise_colours)))
            return {
                "snr_db": float(rng.uniform(*c.snr_db)),
                "source": source,
                "seed": int(rng.integers(2**31)),
            }
        if name == "phone_mic":
            return {
                "highpass_hz": float(rng.uniform(200, 500)),
                "lowpass_hz": float(rng.uniform(6500, 8500)),
                "threshold_db": float(rng.uniform(-30, -15)),
                "ratio": float(rng.uniform(3, 8)),
                "drive_db": float(rng.uniform(3, 10)),
            }
        raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")

    # -- applying --------------------------------------------------------------------------------------------
    def __call__(self, audio: np.ndarray, seed: int) -> tuple[np.ndarray, list[Applied]]:
        """Augment ``audio`` with the augmentations ``seed`` draws; returns ``(audio, records)``."""
        return self.apply_plan(audio, self.plan(seed))

    def apply_only(self, name: str, audio: np.ndarray, seed: int) -> tuple[np.ndarray, list[Applied]]:
        """Apply exactly the augmentation ``name`` (probability 1) with parameters drawn from ``seed``."""
        if name not in AUGMENTATIONS:
            raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")
        return self.apply_plan(audio, [Applied(name, self._draw(name, np.random.default_rng(seed)))])

    def apply_plan(self, audio: np.ndarray, plan: Sequence[Applied]) -> tuple[np.ndarray, list[Applied]]:
        """Apply a plan from :meth:`plan` (or hand-made records). Noise is not added to silent input."""
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"AudioAugmentor expects mono [N] audio, got shape {x.shape}")
        n, applied = len(x), []
        y = np.nan_to_num(x.copy(), nan=0.0, posinf=0.0, neginf=0.0)
        for rec in plan:
            if n == 0 or (rec.name == "noise" and _rms(y) == 0.0):
                continue
            y = _fit(getattr(self, f"_{rec.name}")(y, rec.params), n)
            applied.append(rec)
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
        peak = float(np.max(np.abs(y))) if n else 0.0
        if peak > self.config.peak_limit:
            y = y * np.float32(self.config.peak_limit / peak)
        return y.astype(np.float32, copy=False), applied

    def _pitch_shift(self, x: np.ndarray, p: Params) -> np.ndarray:
        return pb.Pedalboard([pb.PitchShift(semitones=float(p["cents"]) / 100)])(x, self.config.sample_rate)

    def _eq(self, x: np.ndarray, p: Params) -> np.ndarray:
        nyq = 0.45 * self.config.sample_rate
        board = pb.Pedalboard(
            [
                pb.LowShelfFilter(cutoff_frequency_hz=min(float(p["low_hz"]), nyq), gain_db=float(p["low_db"])),
                pb.PeakFilter(
                    cutoff_frequency_hz=min(float(p["mid_hz"]), nyq),
                    gain_db=float(p["mid_db"]),
                    q=float(p["mid_q"]),
                ),
                pb.HighShelfFilter(cutoff_frequency_hz=min(float(p["high_hz"]), nyq), gain_db=float(p["high_db"])),
            ]
        )
        return board(x, self.config.sample_rate)

    def _room_ir(self, x: np.ndarray, p: Params) -> np.ndarray:
        ir = self._load_irs()[str(p["ir"])]
        conv = pb.Convolution(ir[None, :], mix=float(p["wet"]), sample_rate=self.config.sample_rate)
        return _match_rms(pb.Pedalboard([conv])(x, self.config.sample_rate), x)

    def _noise(self, x: np.ndarray, p: Params) -> np.ndarray:
        rng = np.random.default_rng(int(p["seed"]))
        source = str(p["source"])
        if source in ("white", "pink", "brown"):
            noise = coloured_noise(len(x), source, rng)
        else:
            clip = self._noise_clips.get(source)
            if clip is None:
                clip = load_audio(source, self.config.sample_rate)
                if len(self._noise_clips) >= 64:  # bounded: folders may hold thousands of clips
                    self._noise_clips.pop(next(iter(self._noise_clips)))
                self._noise_clips[source] = clip
            reps = int(np.ceil(len(x) / len(clip))) + 1
            looped = np.tile(clip, reps)
            start = int(rng.integers(len(looped) - len(x) + 1))
            noise = looped[start : start + len(x)]
        p_noise = _rms(noise) ** 2
        if p_noise == 0.0:
            return x
        scale = np.sqrt(_rms(x) ** 2 / (p_noise * 10 ** (float(p["snr_db"]) / 10)))
        return x + (noise * scale).astype(np.float32)

    def _phone_mic(self, x: np.ndarray, p: Params) -> np.ndarray:
        board = pb.Pedalboard(
            [
                pb.HighpassFilter(cutoff_frequency_hz=float(p["highpass_hz"])),
                pb.LowpassFilter(cutoff_frequency_hz=min(float(p["lowpass_hz"]), 0.45 * self.config.sample_rate)),
                pb.Compressor(
                    threshold_db=float(p["threshold_db"]), ratio=float(p["ratio"]), attack_ms=5, release_ms=80
                ),
                pb.Distortion(drive_db=float(p["drive_db"])),
            ]
        )
        return _match_rms(board(x, self.config.sample_rate), x)

    # -- resources -------------------------------------------------------------------------------------------
    def _load_irs(self) -> dict[str, np.ndarray]:
        if self._irs is None:
            sr = self.config.sample_rate
            if self.config.ir_dir is None:
                t = np.arange(int(0.8 * sr)) / sr
                decay = np.random.default_rng(0).standard_normal(len(t)) * np.exp(-6.9 * t / 0.6)
                self._irs = {"synthetic_rt60_0.6s": (decay / np.linalg.norm(decay)).astype(np.float32)}
            else:
                files = sorted(f for f in Path(self.config.ir_dir).iterdir() if f.suffix.lower() in AUDIO_EXTENSIONS)
                if not files:
                    raise PianoDataError(self.config.ir_dir, "no impulse responses (.wav/.flac) in the folder")
                irs = {}
                for f in files:
                    ir = load_audio(f, sr)
                    ir = ir[int(np.argmax(np.abs(ir))) :]  # start at the direct sound: no added delay
                    norm = float(np.linalg.norm(ir))
                    if norm == 0.0:
                        log.warning("%s: silent impulse response, skipped", f)
                        continue
                    irs[f.stem] = (ir / norm).astype(np.float32)
                self._irs = irs
        return self._irs

    def _list_noise(self) -> list[Path]:
        if self._noise_files is None:
            folder = self.config.noise_dir
            files = (
                []
                if folder is None
                else sorted(f for f in Path(folder).rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS)
            )
            if folder is not None and not files:
                raise PianoDataError(folder, "no noise clips (.wav/.flac/...) in the folder")
            self._noise_files = files
        return self._noise_files

    def __getstate__(self) -> dict[str, object]:
        return {"config": self.config, "_irs": None, "_noise_files": None, "_noise_clips": {}}
