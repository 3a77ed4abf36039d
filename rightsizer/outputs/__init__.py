"""Outputs: render a finished report (DESIGN.md "report.json") as JSON, HTML, CSV and Markdown.

Renderers only format what the rules produced; they never compute savings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rightsizer.outputs.atomic import atomic_write_text
from rightsizer.outputs.csv_report import render_csv
from rightsizer.outputs.html import render_html
from rightsizer.outputs.json_report import indented_json, render_json
from rightsizer.outputs.markdown import render_markdown
from rightsizer.report.gc_pause import gc_paused
from rightsizer.report.history import HISTORY_FILE

__all__ = ["FILE_NAMES", "FORMATS", "render_csv", "render_html", "render_json",
           "render_markdown", "write_outputs"]

FORMATS = ("html", "json", "csv", "md")
FILE_NAMES = {"json": "report.json", "html": "report.html", "csv": "findings.csv",
              "md": "report.md"}

_RENDERERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], str]] = {
    "json": lambda report, _context: render_json(report),
    "html": render_html,
    "csv": lambda report, _context: render_csv(report),
    "md": lambda report, _context: render_markdown(report),
}


def write_outputs(report: dict[str, Any], context: dict[str, Any], out_dir: Path,
                  formats: Iterable[str]) -> list[Path]:
    """Write report.json always, plus the other formats asked for, plus history.json when
    context["history"] holds a month-over-month comparison; return the paths written.

    Every format is rendered in memory before any file is touched, so a renderer that fails
    leaves last run's files exactly as they were; each file then lands by atomic rename.
    """
    wanted = _formats(formats)
    with gc_paused():  # renderers walk the report's objects: see gc_paused
        rendered = {FILE_NAMES[fmt]: _RENDERERS[fmt](report, context or {}) for fmt in wanted}
    history = (context or {}).get("history")
    if history:
        # Beside report.json, not inside it: report.json's schema is a contract (DESIGN.md).
        rendered[HISTORY_FILE] = indented_json(history)
    out_dir = Path(out_dir)
    return [atomic_write_text(out_dir / name, text) for name, text in rendered.items()]


def _formats(formats: Iterable[str]) -> list[str]:
    """json first (scripts depend on it), then the rest in FORMATS order, each once."""
    asked = {fmt.strip().lower() for fmt in formats if fmt and fmt.strip()}
    unknown = sorted(asked - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown output format {unknown[0]!r} (choose from "
                         f"{', '.join(FORMATS)})")
    return ["json", *[fmt for fmt in FORMATS if fmt in asked and fmt != "json"]]
