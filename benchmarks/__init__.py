"""Benchmarks for memrnn (not part of the test command): see benchmarks/README.md."""
