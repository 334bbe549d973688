"""Benchmarks (data, reference model, metric, limits) and the hardware classes runners serve."""
