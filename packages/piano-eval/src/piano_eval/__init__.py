"""piano_eval."""
