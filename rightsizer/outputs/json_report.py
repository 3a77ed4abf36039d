"""report.json: the machine-readable contract (DESIGN.md "report.json", schema_version "1")."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

# Schema order from DESIGN.md, so diffs between two months' reports line up key for key.
REPORT_KEYS = ("schema_version", "generated_at", "window", "accounts", "regions", "summary",
               "findings", "skipped", "errors")
FINDING_KEYS = ("id", "rule", "severity", "resource_type", "resource_id", "name", "account",
                "region", "current", "recommended", "monthly_cost_usd", "monthly_savings_usd",
                "evidence", "reason")
SKIPPED_KEYS = ("rule", "resource_type", "resource_id", "name", "account", "region", "reason",
                "detail")
ERROR_KEYS = ("account", "region", "service", "operation", "code", "message")


def render_json(report: dict[str, Any]) -> str:
    """Indent 2, schema key order (unknown keys after, sorted), UTF-8 text, trailing newline."""
    ordered = ordered_report(report)
    return json.dumps(_plain(ordered), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def ordered_report(report: dict[str, Any]) -> dict[str, Any]:
    ordered = _ordered(report, REPORT_KEYS)
    for key, keys in (("findings", FINDING_KEYS), ("skipped", SKIPPED_KEYS),
                      ("errors", ERROR_KEYS)):
        if isinstance(ordered.get(key), list):
            ordered[key] = [_ordered(row, keys) if isinstance(row, dict) else row
                            for row in ordered[key]]
    return ordered


def finding_columns(findings: list[dict[str, Any]]) -> list[str]:
    """The JSON finding keys, in schema order, plus any extra key a newer rule added."""
    extra = sorted({key for row in findings for key in row} - set(FINDING_KEYS))
    return [*FINDING_KEYS, *extra]


def _ordered(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    result = {key: row[key] for key in keys if key in row}
    result.update({key: row[key] for key in sorted(row, key=str) if key not in result})
    return result


def _plain(value: Any) -> Any:
    """JSON-native values only: NaN/inf are not JSON (null instead), numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy / pandas scalar
        return _plain(value.item())
    return str(value)
