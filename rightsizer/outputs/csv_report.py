"""findings.csv: one row per finding for spreadsheets; same columns as a report.json finding."""

from __future__ import annotations

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
_QUOTED_IF = ('"', ",", "\n", "\r")  # csv.QUOTE_MINIMAL: the delimiter, a quote, a line break


def render_csv(report: Report) -> str:
    """RFC 4180 text, as csv.writer(lineterminator="\r\n") writes it (quotes only where
    needed, quotes doubled); joined here because csv.writer, copying character by character,
    is slower (docs/benchmarks.md). Cells are made column by column: a
    column's values are mostly of one type and need no quoting at all, checked in bulk."""
    findings = report.findings
    columns = finding_columns(findings)
    cells = [_cells(_column(findings, column)) for column in columns]
    lines = [",".join(map(_quoted, columns)), *map(",".join, zip(*cells, strict=True))]
    lines.append("")  # the last line's terminator
    return "\r\n".join(lines)


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


def _cells(values: list[Any]) -> list[str]:
    """_field of each value of one column."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return _text_cells(values)
    if kinds == {int} or kinds == {float} and all(map(math.isfinite, values)):
        return list(map(repr, values))
    if kinds <= {dict, list}:
        return list(map(_quoted, map(compact_json, values)))
    return list(map(_field, values))


def _text_cells(values: list[str]) -> list[str]:
    """_field of strings: as they are unless one starts like a formula or needs quotes, which
    the column's text joined once shows ("\x00" before every value but the first)."""
    joined = "\x00".join(values)
    if joined.startswith(_FORMULA_START) or any(f"\x00{start}" in joined
                                                 for start in _FORMULA_START):
        return [_quoted(_defuse_formula(value)) for value in values]
    if any(character in joined for character in _QUOTED_IF):
        return list(map(_quoted, values))
    return values


def _quoted(cell: str) -> str:
    """csv.QUOTE_MINIMAL: quote a cell holding the delimiter, a quote or a line break."""
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


def _field(value: Any) -> str:
    """A report value as one CSV field, quoted where needed."""
    kind = type(value)  # the common types first, without plain()'s copy of every value
    if kind is str:
        return _quoted(_defuse_formula(value))
    if kind is float:
        return repr(value) if math.isfinite(value) else ""
    if kind is int:
        return repr(value)
    if kind is dict or kind is list:
        return _quoted(compact_json(value))
    return _quoted(_cell(value))


def _cell(value: Any) -> str:
    value = plain(value)
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


FORMAT = OutputFormat("csv", "findings.csv", "one row a finding, for a spreadsheet",
                      lambda report, _context: render_csv(report))
