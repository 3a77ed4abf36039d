"""What the tests that run `rightsizer` against a moto server share."""

from __future__ import annotations

from pathlib import Path

# moto's server answers the APIs it lacks (Savings Plans, reservation recommendations and
# offerings) with a 500, which botocore's adaptive retries take as a transient failure and
# retry with exponential backoff: at the default 8 attempts, one after another in the Savings
# Plans job, the backoff is most of a run. Two attempts still retry a real transient failure
# once, and the report holds the same error rows.
MOTO_SERVER_CONFIG = "[aws]\nmax_attempts = 2\n"


def moto_server_config(directory: Path) -> Path:
    """A config.toml for a run against a moto server, written in `directory`."""
    path = directory / "config.toml"
    path.write_text(MOTO_SERVER_CONFIG, encoding="utf-8")
    return path
