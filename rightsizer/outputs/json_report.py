"""report.json: the machine-readable contract (DESIGN.md "report.json", schema_version "1")."""

from __future__ import annotations

from typing import Any

from rightsizer.gc_pause import gc_paused
from rightsizer.outputs.json_text import indented_json

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
    with gc_paused():
        return indented_json(ordered_report(report), end="\n")


def ordered_report(report: dict[str, Any]) -> dict[str, Any]:
    """A new top-level dict in schema order; rows already in schema order are reused as they
    are (Finding.to_dict builds them so), the others are reordered copies."""
    ordered = _ordered(report, REPORT_KEYS)
    for key, keys in (("findings", FINDING_KEYS), ("skipped", SKIPPED_KEYS),
                      ("errors", ERROR_KEYS)):
        if isinstance(ordered.get(key), list):
            ordered[key] = [row if type(row) is not dict or tuple(row) == keys
                            else _ordered(row, keys) for row in ordered[key]]
    return ordered


def finding_columns(findings: list[dict[str, Any]]) -> list[str]:
    """The JSON finding keys, in schema order, plus any extra key a newer rule added."""
    extra = sorted(set().union(*findings) - set(FINDING_KEYS))
    return [*FINDING_KEYS, *extra]


def _ordered(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    result = {key: row[key] for key in keys if key in row}
    result.update({key: row[key] for key in sorted(row, key=str) if key not in result})
    return result
