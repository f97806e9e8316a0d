"""Measurements against peers and of the library's own behaviour: one script per question,
run from the repository root as ``python -m benchmarks.NAME`` (``benchmarks/README.md`` lists
them), sharing :mod:`benchmarks.common`; the diagnostics of one investigation each are in
:mod:`benchmarks.diagnostics`. Their results files under ``benchmarks/results/`` are what the
docs' results tables are generated from (``docs/gen_results.py``)."""
