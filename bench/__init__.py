"""Benchmarks: each bench_*.py prints its figures (see bench/README.md)."""
