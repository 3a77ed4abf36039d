"""findings.csv: one row per finding for spreadsheets; same columns as a report.json finding."""

from __future__ import annotations

import csv
import io
from typing import Any

from rightsizer.outputs.formatting import compact_json
from rightsizer.outputs.json_report import _plain, finding_columns

# A cell starting with one of these is run as a formula by Excel/Sheets ("CSV injection");
# resource names, tags and reasons come from AWS accounts, so neutralize them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: dict[str, Any]) -> str:
    findings = [row for row in report.get("findings", []) if isinstance(row, dict)]
    columns = finding_columns(findings)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for finding in findings:
        writer.writerow([_cell(finding.get(column)) for column in columns])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return compact_json(value)
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
