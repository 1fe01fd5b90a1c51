"""Benchmarks: each prints what it measured next to its target, as a ratio. Run with `make bench`."""
