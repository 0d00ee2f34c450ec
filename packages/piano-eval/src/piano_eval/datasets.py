"""Which labelled dataset a run uses: PercePiano under ``--data-root`` or the embedded synthetic corpus."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from piano_data.errors import PianoDataError
from piano_data.paths import cache_root
from piano_data.percepiano import LABEL_FILE, load_percepiano
from piano_data.samples import Segment
from piano_data.synthetic import SyntheticConfig, make_synthetic_corpus


@dataclass(frozen=True)
class LabelledCorpus:
    """The labelled segments a run evaluates on, named and versioned (not a torch dataset: that is
    :class:`piano_data.datasets.LabelledDataset`)."""

    name: str
    segments: list[Segment]
    version: str  # content digest of the keys and labels: results from another data version are refused
    root: Path | None

    @property
    def description(self) -> str:
        where = f" at {self.root}" if self.root else " (embedded, generated)"
        return f"{self.name}{where}: {len(self.segments)} segments"


def _version(segments: list[Segment]) -> str:
    h = hashlib.sha256()
    for s in segments:
        h.update(s.key.encode())
        if s.labels is not None:
            h.update(s.labels.round(6).tobytes())
    return h.hexdigest()[:16]


def load_labelled(data_root: Path | None, soundfonts: Sequence[str] | None = None) -> LabelledCorpus:
    """PercePiano from ``<data_root>/percepiano`` (or ``data_root`` itself), else the embedded default.

    With ``soundfonts``, every segment is rendered with each of them (cached by content hash under
    ``$PIANO_EVAL_CACHE/render``) and the dataset holds one segment per (segment, soundfont), keyed
    ``<key>@<soundfont>`` with ``extra['soundfont']``: the input of the ``soundfont`` split.
    """
    dataset = _load(data_root)
    if not soundfonts:
        return dataset
    from piano_data.render import render_segments

    rendered = render_segments(dataset.segments, list(soundfonts), cache_root() / "render")
    name = f"{dataset.name}+audio({','.join(soundfonts)})"
    return LabelledCorpus(name, rendered, _version(rendered), dataset.root)


def _load(data_root: Path | None) -> LabelledCorpus:
    if data_root is None:
        segments = make_synthetic_corpus(SyntheticConfig())
        return LabelledCorpus("synthetic", segments, _version(segments), None)
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise PianoDataError(data_root, "data root is not a folder")
    for candidate in (data_root / "percepiano", data_root):
        if (candidate / "midi" / "all_2rounds").is_dir() or (candidate / LABEL_FILE).is_file():
            segments = load_percepiano(candidate)
            return LabelledCorpus("percepiano", segments, _version(segments), candidate)
    raise PianoDataError(data_root, "no PercePiano dataset here (expected a percepiano/ folder with midi/all_2rounds/)")
