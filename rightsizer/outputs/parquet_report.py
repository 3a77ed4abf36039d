"""findings.parquet: one row a finding, for teams that load findings into Athena or DuckDB.

The schema is fixed (FINDINGS_SCHEMA), so each month's file unions with the others under one
table: nested values (current, recommended, evidence, keys a newer rule added) are JSON text,
which Athena's json_extract and DuckDB's ->> read, and generated_at tells the months apart.
Snappy compression: the codec every Parquet reader, Athena included, supports.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rightsizer.outputs.formatting import APPLY_FORMATS, as_number, change_text
from rightsizer.outputs.json_report import compact_json, plain
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import Finding, Report

_TEXT = ("id", "rule", "severity", "resource_type", "resource_id", "name", "account", "region")
_JSON = ("current", "recommended", "evidence")
FINDINGS_SCHEMA = pa.schema([
    pa.field("generated_at", pa.timestamp("us", tz="UTC")),
    *(pa.field(name, pa.string()) for name in _TEXT),
    *(pa.field(name, pa.string()) for name in _JSON),
    pa.field("change", pa.string()),  # current -> recommended in words, as the reports say it
    pa.field("monthly_cost_usd", pa.float64()),
    pa.field("monthly_savings_usd", pa.float64()),
    pa.field("reason", pa.string()),
    *(pa.field(f"how_to_apply_{tool}", pa.string()) for tool in APPLY_FORMATS),
    pa.field("extra", pa.string()),  # JSON of the keys a newer rule added; null when none
])


def render_parquet(report: Report) -> bytes:
    findings = report.findings
    generated = _timestamp(report.generated_at)
    columns: dict[str, list[Any]] = {
        "generated_at": [generated] * len(findings),
        **{name: [_text(getattr(f, name)) for f in findings] for name in _TEXT},
        **{name: [compact_json(plain(getattr(f, name))) for f in findings] for name in _JSON},
        "change": [change_text(f) for f in findings],
        "monthly_cost_usd": [as_number(f.monthly_cost_usd) for f in findings],
        "monthly_savings_usd": [as_number(f.monthly_savings_usd) for f in findings],
        "reason": [_text(f.reason) for f in findings],
        **{f"how_to_apply_{tool}": [_command(f, tool) for f in findings]
           for tool in APPLY_FORMATS},
        "extra": [compact_json(plain(f.model_extra)) if f.model_extra else None
                  for f in findings],
    }
    table = pa.table(columns, schema=FINDINGS_SCHEMA)
    out = io.BytesIO()
    pq.write_table(table, out, compression="snappy")
    return out.getvalue()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _command(finding: Finding, tool: str) -> str | None:
    commands = finding.how_to_apply
    return (getattr(commands, tool) or None) if commands is not None else None


def _timestamp(text: str) -> datetime | None:
    """report.json's generated_at (ISO 8601, UTC); None when it is not one."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


FORMAT = OutputFormat("parquet", "findings.parquet",
                      "one row a finding, for Athena or DuckDB (fixed schema)",
                      lambda report, _context: render_parquet(report))
