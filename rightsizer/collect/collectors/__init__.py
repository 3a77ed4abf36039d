"""Collectors talk to AWS and nothing else: each returns plain rows of one kind."""
