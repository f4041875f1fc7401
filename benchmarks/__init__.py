"""Benchmarks that print their figures (`make bench-gateway`, `make bench`); never timed tests."""
