"""``piano-eval score`` as a practice tool: the default model, windows and bars, per-bar feedback, reports.

Modules: :mod:`~piano_eval.practice.model` (the shipped numpy model and its card), :mod:`.features`,
:mod:`.analysis` (align, cut into windows, score, bar-by-bar feedback), :mod:`.render` (text, JSON, HTML and
figures), :mod:`.example` (the bundled example performance of ``piano-eval demo``). Importing the package loads
nothing heavy.
"""
