"""Symbolic piano encoders: hand-crafted MIDI features, the REMI tokenizer, S1-S3, and score alignment.

Import the parts from their modules (``piano_symbolic.features``, ``piano_symbolic.tokenizer``,
``piano_symbolic.s1`` / ``s2`` / ``s3``, ``piano_symbolic.align``); importing the package itself loads nothing
heavy.
"""

__all__: list[str] = []
