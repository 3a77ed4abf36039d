"""Write the report in the formats asked for, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rightsizer.outputs.atomic import atomic_write_bytes, atomic_write_text
from rightsizer.outputs.json_report import indented_json
from rightsizer.outputs.registry import format_names, formats
from rightsizer.report.gc_pause import gc_paused
from rightsizer.report.history import HISTORY_FILE
from rightsizer.report.model import Report, as_report


def write_outputs(report: Report | Mapping[str, Any], context: dict[str, Any], out_dir: Path,
                  wanted: Iterable[str]) -> list[Path]:
    """Write report.json always, plus the other file formats asked for (a stdout format such
    as `table` is the caller's to print), plus history.json when
    context["history"] holds a month-over-month comparison; return the paths written.

    `report` is a Report (what the pipeline hands over); a dict is validated into one first.

    Every format is rendered in memory before any file is touched, so a renderer that fails
    leaves last run's files exactly as they were; each file then lands by atomic rename.
    """
    chosen = [formats()[name] for name in chosen_formats(wanted)]
    report = as_report(report)
    with gc_paused():  # renderers walk the report's objects: see gc_paused
        rendered: dict[str, str | bytes] = {fmt.file_name: fmt.render(report, context or {})
                                            for fmt in chosen if not fmt.stdout}
    history = (context or {}).get("history")
    if history:
        # Beside report.json, not inside it: report.json's schema is a contract (DESIGN.md).
        rendered[HISTORY_FILE] = indented_json(history)
    out_dir = Path(out_dir)
    return [atomic_write_bytes(out_dir / name, data) if isinstance(data, bytes)
            else atomic_write_text(out_dir / name, data) for name, data in rendered.items()]


def chosen_formats(wanted: Iterable[str]) -> list[str]:
    """json first (scripts depend on it), then the rest in registry order, each once."""
    known = format_names()
    asked = {fmt.strip().lower() for fmt in wanted if fmt and fmt.strip()}
    unknown = sorted(asked - set(known))
    if unknown:
        raise ValueError(f"unknown output format {unknown[0]!r} (choose from "
                         f"{', '.join(known)})")
    return ["json", *[fmt for fmt in known if fmt in asked and fmt != "json"]]
