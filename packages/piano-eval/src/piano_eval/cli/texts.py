"""Help lines shared by ``piano-eval --help`` (which imports no command module) and the commands themselves."""

DEMO_HELP = "run the quick experiment set, print a comparison table, and score the bundled example (no data needed)"
SCORE_HELP = "bar-by-bar feedback and a 19-dimension profile of a performance (MIDI or audio) against its score"
MODELS_HELP = "list the models `piano-eval score` can use (the shipped default and its model card)"
