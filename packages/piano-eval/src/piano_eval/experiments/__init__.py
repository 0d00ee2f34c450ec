"""Experiment presets of ``piano-eval run``."""
