"""Reproducible benchmarks: each prints one JSON line with its ratio to a bare-Flask baseline.

Run them with ``python -m benchmarks.run`` (see ``benchmarks/README.md``).
"""
