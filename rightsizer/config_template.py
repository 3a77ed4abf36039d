"""The commented example config.toml, from the wheel or from the repository checkout."""

from __future__ import annotations

import re
from pathlib import Path

from rightsizer.errors import RightsizerError

_PACKAGE_DIR = Path(__file__).resolve().parent
# The example's commented-out regions line, which `rightsizer init` fills in.
_REGIONS_LINE = re.compile(r"^# regions = \[.*\]\s+# example$", re.MULTILINE)


def example_config_text(region: str | None = None) -> str:
    """The example config; with `region`, its [aws] regions line set to that region."""
    text = _example_text()
    if region is None:
        return text
    line = (f'regions = ["{region}"]   # your AWS session\'s region when this file was '
            "written")
    filled, count = _REGIONS_LINE.subn(line, text, count=1)
    if count != 1:  # an edited example: never write a config without the region asked for
        raise RightsizerError("the example config.toml has no [aws] regions line to fill in")
    return filled


def _example_text() -> str:
    # In a wheel the repository's config.toml ships as rightsizer/example_config.toml.
    for candidate in (_PACKAGE_DIR / "example_config.toml", _PACKAGE_DIR.parent / "config.toml"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError("example config.toml is missing from this installation")
