"""report.json: the machine-readable contract (DESIGN.md "report.json", schema_version "1").

The text is orjson's: 2-space indent, UTF-8 (non-ASCII as it is), a trailing newline. Values
that are not JSON come out as they always have (see `plain`): NaN and infinity as null, numpy
scalars as their value, dates and datetimes as isoformat(), anything else unknown as str().
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import orjson

from rightsizer.outputs.formatting import APPLY_FORMATS
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import Finding, Report

# A report.json finding's keys in schema order (DESIGN.md), as the model declares them; the
# last, how_to_apply, is what build_report adds after a rule's own fields.
APPLY_KEY = "how_to_apply"
REPORT_FINDING_KEYS = tuple(Finding.model_fields)
FINDING_KEYS = tuple(key for key in REPORT_FINDING_KEYS if key != APPLY_KEY)
# findings.csv spreads how_to_apply over one column a tool (a spreadsheet cell holds text, and
# a command is easier to copy from its own cell than out of a JSON object).
APPLY_COLUMNS = tuple(f"{APPLY_KEY}_{key}" for key in APPLY_FORMATS)

# orjson writes NaN/inf as null itself; datetimes and dataclasses go to _default so they are
# written as plain() writes them (isoformat(), str()), not in orjson's own forms.
_OPTIONS = (orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS)
_INDENTED = _OPTIONS | orjson.OPT_INDENT_2


def render_json(report: Report) -> str:
    """Indent 2, schema key order (unknown keys after, sorted: Report.to_json_dict), UTF-8
    text, trailing newline."""
    return indented_json(report.to_json_dict())


def indented_json(value: Any) -> str:
    """`value` as 2-space indented JSON text with a trailing newline (report.json,
    history.json)."""
    return _dumps(value, _INDENTED | orjson.OPT_APPEND_NEWLINE).decode()


def compact_json(value: Any) -> str:
    """`value` as one line of JSON, no spaces (findings.csv's cells for dicts and lists)."""
    return _dumps(value, _OPTIONS).decode()


def _dumps(value: Any, options: int) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=options)
    except orjson.JSONEncodeError:
        # what orjson refuses: a non-str dict key (written as str(key)), an int beyond 64 bits
        # or nesting deeper than 254. The standard library writes those, slowly.
        text = json.dumps(plain(value), ensure_ascii=False, allow_nan=False,
                          indent=2 if options & orjson.OPT_INDENT_2 else None,
                          separators=None if options & orjson.OPT_INDENT_2 else (",", ":"))
        return (text + "\n" if options & orjson.OPT_APPEND_NEWLINE else text).encode()


def _default(value: Any) -> Any:
    """What orjson hands back unencoded: as plain() makes it (a float subclass, a pandas
    Timestamp, a set, a dataclass...)."""
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    return plain(value)


def plain(value: Any) -> Any:
    """JSON-native values only: NaN/inf are not JSON (null instead), numpy scalars unwrapped,
    dates as isoformat(), keys as str(key), anything else unknown as str()."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy / pandas scalar
        return plain(value.item())
    return str(value)


def finding_columns(findings: list[Finding]) -> list[str]:
    """findings.csv's columns: the JSON finding keys in schema order, how_to_apply as one
    column a tool (always there, so a month without findings has the same header), then any
    extra key a newer rule added."""
    extra = sorted(set().union(*(finding.model_extra or () for finding in findings)), key=str)
    return [*FINDING_KEYS, *APPLY_COLUMNS, *extra]


FORMAT = OutputFormat("json", "report.json", "the machine-readable report (DESIGN.md schema)",
                      lambda report, _context: render_json(report))
