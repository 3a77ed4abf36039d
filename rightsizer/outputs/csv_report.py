"""findings.csv: one row per finding for spreadsheets; same columns as a report.json finding."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from rightsizer.outputs.json_report import _plain, compact_plain_json, finding_columns

# A cell starting with one of these is run as a formula by Excel/Sheets ("CSV injection");
# resource names, tags and reasons come from AWS accounts, so neutralize them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: dict[str, Any]) -> str:
    findings = [row for row in report.get("findings", []) if isinstance(row, dict)]
    columns = finding_columns(findings)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_cell(finding.get(column)) for column in columns] for finding in findings)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    kind = type(value)  # the common types first, without _plain's copy of every value
    if kind is str:
        return _defuse_formula(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else ""
    if kind is int:
        return repr(value)
    if kind is dict or kind is list:
        return compact_plain_json(value)
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return compact_plain_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
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
