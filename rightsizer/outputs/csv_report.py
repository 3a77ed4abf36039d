"""findings.csv: one row per finding for spreadsheets; same columns as a report.json finding."""

from __future__ import annotations

import csv
import io
import math
from operator import attrgetter
from typing import Any

from rightsizer.outputs.json_report import (
    APPLY_COLUMNS,
    APPLY_KEY,
    compact_json,
    finding_columns,
    plain,
)
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import Finding, Report

# A cell starting with one of these is run as a formula by Excel/Sheets ("CSV injection");
# resource names, tags and reasons come from AWS accounts, so neutralize them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: Report) -> str:
    """RFC 4180 text from the csv module (quotes only where needed, CRLF line ends)."""
    findings = report.findings
    columns = finding_columns(findings)
    cells = [list(map(_cell, _column(findings, column))) for column in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(zip(*cells, strict=True))
    return out.getvalue()


_APPLY_FORMAT = {column: column.removeprefix(f"{APPLY_KEY}_") for column in APPLY_COLUMNS}


def _column(findings: list[Finding], column: str) -> list[Any]:
    """One column's values; how_to_apply_<tool> is that tool's text in how_to_apply ("" when
    the finding has none). A command goes through the same formula check as any text: none
    of the rules' commands starts with = + - @ (tests/test_apply_commands.py checks every
    one), so none is changed; one that did would get a leading ' and need it removed before
    it is pasted into a shell. Guarding the spreadsheet wins over a cell that pastes as is."""
    tool = _APPLY_FORMAT.get(column)
    if tool is not None:
        return ["" if commands is None else str(getattr(commands, tool) or "")
                for commands in map(attrgetter(APPLY_KEY), findings)]
    if column in Finding.model_fields:
        return list(map(attrgetter(column), findings))
    # a key a newer rule added (blank for the findings without it)
    return [(finding.model_extra or {}).get(column) for finding in findings]


def _cell(value: Any) -> str:
    """A report value as one CSV cell's text (the writer quotes it where needed)."""
    if isinstance(value, str):
        return _defuse_formula(value)
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return compact_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, int):
        return repr(value)
    return _defuse_formula(str(value))


def _defuse_formula(text: str) -> str:
    """Prefix a quote so the text stays text (OWASP's advice); plain negative numbers pass."""
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


FORMAT = OutputFormat("csv", "findings.csv", "one row a finding, for a spreadsheet",
                      lambda report, _context: render_csv(report))
