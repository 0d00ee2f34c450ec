"""A small piano-like SoundFont 2 written by code: a second timbre that needs no download and no system package.

:func:`additive_piano_sf2` returns the bytes of a General-MIDI-bank-0 soundfont whose every preset plays the
same instrument: one additive-synthesis sample per three semitones over the piano's 88 keys, in two velocity
layers (soft: fewer, weaker upper partials; loud: brighter, with a short hammer-noise onset). Each sample is a
whole struck note with its decay baked in (no loop, no envelope or modulator needed, so simple synthesizers
such as symusic's play it as written): a fast "prompt" decay then a slow one, upper partials fading first,
slightly stretched partials, and shorter notes for higher keys, as a piano's strings behave. The bytes are a
pure function of :data:`ADDITIVE_VERSION` (fixed seed, no clock, no platform), so every machine renders the
same audio from it and the render cache key (the soundfont fingerprint) is stable.

The file layout follows the SoundFont 2.01 specification (RIFF ``sfbk`` with ``INFO``, ``sdta`` and ``pdta``).
"""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np

__all__ = ["ADDITIVE_VERSION", "additive_piano_sf2"]

#: Changing the synthesis changes this string and hence every cache key that depends on the soundfont.
ADDITIVE_VERSION = "additive-piano-v1"

_SR = 24_000
_TAIL = 32  # silent points that end every sample
_ROOTS = tuple(range(22, 109, 3))  # zone centres; each zone covers root-1 .. root+1
# (vel lo, vel hi, partial roll-off exponent, hammer noise, level): velocity changes the timbre here and the level in
# the renderer (TinySoundFont scales each note linearly by its velocity)
_LAYERS = ((0, 63, 1.9, 0.0, 0.7), (64, 127, 1.1, 0.04, 0.8))

# generator operators (SoundFont 2.01, section 8.1.3)
_INSTRUMENT, _KEY_RANGE, _VEL_RANGE, _SAMPLE_ID, _SAMPLE_MODES, _ROOT_KEY = 41, 43, 44, 53, 54, 58
_RELEASE_VOL = 38


def _timecents(seconds: float) -> int:
    return round(1200 * float(np.log2(max(seconds, 0.001))))


def _sample(root: int, rolloff: float, noise: float, level: float, rng: np.random.Generator) -> np.ndarray:
    """int16 samples of one struck note at its root key (decay baked in, no loop)."""
    f = 440.0 * 2 ** ((root - 69) / 12)
    tau = float(np.clip(3.0 * 2 ** (-(root - 21) / 24), 0.25, 3.0))  # low strings ring longer
    n = int(np.clip(5.8 * tau, 1.0, 5.0) * _SR)  # about -50 dB at the end
    t = np.arange(n, dtype=np.float32) / np.float32(_SR)
    out = np.zeros(n, dtype=np.float32)
    slow = np.exp(-t / np.float32(tau))  # envelopes of the first partial ...
    fast = slow**6
    q_slow = np.exp(np.float32(-0.35 / tau) * t)  # ... and the factors that make each next one fade faster
    q_fast = q_slow**6
    for h in range(1, 25):
        if h * f >= 0.42 * _SR:
            break
        amp = h**-rolloff * (1.0 + 0.3 * np.cos(h * 1.7))  # uneven partials, as struck strings have
        stretch = 1.0 + 0.0004 * (h * h - 1) * (f / 440.0) ** 0.5  # slight inharmonicity of stiff strings
        phase = np.float32(2 * np.pi * h * f * stretch) * t + np.float32(2 * np.pi * ((h * 0.618) % 1.0))
        out += np.float32(amp) * (0.6 * fast + 0.4 * slow) * np.sin(phase)  # prompt sound, then aftersound
        slow *= q_slow
        fast *= q_fast
    if noise > 0:  # a short, low-passed burst at the hammer strike
        burst = rng.standard_normal(int(0.012 * _SR))
        burst = np.convolve(burst, np.ones(4) / 4, mode="same") * np.hanning(len(burst))
        out[: len(burst)] += noise * burst / max(1e-9, float(np.abs(burst).max())) * float(np.abs(out).max())
    fade = min(n, int(0.05 * _SR))
    out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)  # no click where the sample ends
    out /= float(np.abs(out).max())
    return np.concatenate([np.round(out * level * 32767), np.zeros(_TAIL)]).astype("<i2")


def _chunk(tag: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) % 2 else b""
    return tag + struct.pack("<I", len(payload)) + payload + pad


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def _name(text: str) -> bytes:
    return text.encode("ascii")[:19].ljust(20, b"\0")


def _gen(oper: int, amount: int) -> bytes:
    return struct.pack("<Hh", oper, amount)


def _range(oper: int, lo: int, hi: int) -> bytes:
    return struct.pack("<HBB", oper, lo, hi)


@lru_cache(maxsize=1)
def additive_piano_sf2() -> bytes:
    """The soundfont's bytes (about 10 MB; deterministic, see the module docstring)."""
    rng = np.random.default_rng(20240601)
    smpl = bytearray()
    shdr = bytearray()
    igen = bytearray()
    ibag = bytearray()
    zone = 0
    for layer, (vel_lo, vel_hi, rolloff, noise, level) in enumerate(_LAYERS):
        for root in _ROOTS:
            pcm = _sample(root, rolloff, noise, level, rng)
            start = len(smpl) // 2
            smpl += pcm.tobytes() + b"\0" * (2 * 46)  # 46 zero points after each sample (spec 7.10)
            sample_id = len(shdr) // 46
            shdr += _name(f"p{layer}k{root}") + struct.pack(
                "<IIIIIBbHH",
                start,
                start + len(pcm),
                start + len(pcm) - _TAIL,  # the loop spins on the silent tail: the decay is in the sample
                start + len(pcm),
                _SR,
                root,
                0,  # no pitch correction: the sample is in tune
                0,
                1,  # mono sample
            )
            lo, hi = (0 if root == _ROOTS[0] else root - 1), (127 if root == _ROOTS[-1] else root + 1)
            ibag += struct.pack("<HH", len(igen) // 4, 0)
            igen += _range(_KEY_RANGE, lo, hi) + _range(_VEL_RANGE, vel_lo, vel_hi)
            igen += _gen(_RELEASE_VOL, _timecents(0.3))
            igen += _gen(_SAMPLE_MODES, 1) + _gen(_ROOT_KEY, root) + _gen(_SAMPLE_ID, sample_id)
            zone += 1
    ibag += struct.pack("<HH", len(igen) // 4, 0)  # terminal bag
    igen += b"\0" * 4
    shdr += _name("EOS") + b"\0" * 26
    inst = _name("AdditivePiano") + struct.pack("<H", 0) + _name("EOI") + struct.pack("<H", zone)

    # one preset per General MIDI program (bank 0), each pointing at the single instrument
    phdr, pbag, pgen = bytearray(), bytearray(), bytearray()
    for program in range(128):
        phdr += _name(f"AdditivePiano{program}") + struct.pack("<HHHIII", program, 0, program, 0, 0, 0)
        pbag += struct.pack("<HH", len(pgen) // 4, 0)
        pgen += _gen(_INSTRUMENT, 0)
    phdr += _name("EOP") + struct.pack("<HHHIII", 0, 0, 128, 0, 0, 0)
    pbag += struct.pack("<HH", len(pgen) // 4, 0)
    pgen += b"\0" * 4
    mod_terminal = b"\0" * 10
    info = _list(
        b"INFO",
        _chunk(b"ifil", struct.pack("<HH", 2, 1)),
        _chunk(b"isng", b"EMU8000\0"),
        _chunk(b"INAM", f"piano-eval {ADDITIVE_VERSION}\0".encode()),
    )
    sdta = _list(b"sdta", _chunk(b"smpl", bytes(smpl)))
    pdta = _list(
        b"pdta",
        _chunk(b"phdr", bytes(phdr)),
        _chunk(b"pbag", bytes(pbag)),
        _chunk(b"pmod", mod_terminal),
        _chunk(b"pgen", bytes(pgen)),
        _chunk(b"inst", inst),
        _chunk(b"ibag", bytes(ibag)),
        _chunk(b"imod", mod_terminal),
        _chunk(b"igen", bytes(igen)),
        _chunk(b"shdr", bytes(shdr)),
    )
    body = b"sfbk" + info + sdta + pdta
    return b"RIFF" + struct.pack("<I", len(body)) + body
