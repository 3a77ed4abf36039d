"""Rules: pure functions `snapshot, settings -> findings`, one module a rule (see registry)."""
