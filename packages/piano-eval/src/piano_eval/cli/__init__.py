"""The ``piano-eval`` command line."""
