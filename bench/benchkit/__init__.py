"""Helpers for the benchmarks (`make bench` runs bench/*.py, not this package)."""
