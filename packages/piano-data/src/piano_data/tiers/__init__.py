"""Data tiers T2-T4: paired corpora (ASAP, MAESTRO, ATEPP, folders), competition manifests, unlabelled
clips."""

from piano_data.tiers.asap import BeatAnnotations, load_asap, read_beat_annotations
from piano_data.tiers.atepp import load_atepp
from piano_data.tiers.competition import (
    CompetitionRecording,
    OrdinalPair,
    load_competition_manifest,
    ordinal_pairs,
    placement_rank,
)
from piano_data.tiers.folder import load_folder
from piano_data.tiers.giantmidi import load_giantmidi_eval
from piano_data.tiers.maestro import load_maestro
from piano_data.tiers.performance import Performance, piece_key
from piano_data.tiers.pieces import (
    PieceIndex,
    SamePieceBatchSampler,
    SamePiecePairSampler,
    pair_batches,
    same_piece_pairs,
)
from piano_data.tiers.summary import summarize_tiers
from piano_data.tiers.unlabelled import (
    Clip,
    ClipConfig,
    read_clip_manifest,
    segment_unlabelled,
    write_clip_manifest,
)

__all__ = [
    "BeatAnnotations",
    "Clip",
    "ClipConfig",
    "CompetitionRecording",
    "OrdinalPair",
    "Performance",
    "PieceIndex",
    "SamePieceBatchSampler",
    "SamePiecePairSampler",
    "load_asap",
    "load_atepp",
    "load_competition_manifest",
    "load_folder",
    "load_giantmidi_eval",
    "load_maestro",
    "ordinal_pairs",
    "pair_batches",
    "piece_key",
    "placement_rank",
    "read_beat_annotations",
    "read_clip_manifest",
    "same_piece_pairs",
    "segment_unlabelled",
    "summarize_tiers",
    "write_clip_manifest",
]
