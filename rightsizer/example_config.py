"""The commented example config.toml, from the wheel or from the repository checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def example_config_text() -> str:
    # In a wheel the repository's config.toml ships as rightsizer/example_config.toml.
    for candidate in (_PACKAGE_DIR / "example_config.toml", _PACKAGE_DIR.parent / "config.toml"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError("example config.toml is missing from this installation")
