"""Accuracy benchmark for ecs-rightsize: `python -m benchmarks.accuracy` (see docs/accuracy.md)."""
