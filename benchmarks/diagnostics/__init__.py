"""Diagnostics of one investigation each (why a planner misses, what a latent resolves, which
signal carries the uncertainty): ``python -m benchmarks.diagnostics.NAME``; the index is
``benchmarks/diagnostics/README.md``."""
