"""Test helpers that ship with rightsizer (a synthetic AWS for tests and benchmarks)."""
