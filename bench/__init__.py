"""Benchmarks run by hand (``python -m bench.<name>``): they measure and print, they never assert timings."""
