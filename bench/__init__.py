"""Benchmarks of lenslog, run on demand with ``make bench`` (never in CI, never timed tests)."""
