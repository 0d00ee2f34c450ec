"""Score-alignment benchmarks on ASAP (run from ``benchmarks/``, not shipped in any wheel).

- :mod:`align_bench.core`: the beat-level benchmark machinery (pieces, methods, pieces log, tables);
- :mod:`align_bench.reference`: the reference aligners (plain DTW, parangonar);
- :mod:`align_bench.cli`: the options of ``bench_align.py``;
- :mod:`align_bench.perturb`: student-like perturbations of performances (``bench_align_perturb.py``).
"""
