"""Turn report values into short human text; shared by the HTML and Markdown renderers.

Pure presentation: nothing here computes a saving, it only formats what the rules produced.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rightsizer.report.model import Finding

SEVERITIES = ("high", "medium", "low")
# A browser stays usable up to a few thousand rows, and a Markdown page is read or pasted, not
# searched: report.html and report.md list the largest findings (and the first skipped rows) up
# to this many and say where the rest are. report.json and findings.csv always hold every one.
MAX_LISTED_ROWS = 2000
# A finding's how_to_apply keys (DESIGN.md "report.json"), in the order every output shows
# them, with the label a reader sees and the language of a Markdown code block.
APPLY_FORMATS = ("cli", "terraform", "cdk")
APPLY_LABELS = {"cli": "AWS CLI", "terraform": "Terraform", "cdk": "CDK (TypeScript)"}
APPLY_LANGUAGES = {"cli": "bash", "terraform": "hcl", "cdk": "ts"}


def money(value: Any) -> str:
    """`$1,234.56`; negative as `-$5.00`; missing as an em dash."""
    number = as_number(value)
    if number is None:
        return "—"
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.2f}"


def percent(value: Any) -> str:
    """One decimal, e.g. `31.0%`."""
    number = as_number(value)
    return "—" if number is None else f"{number:.1f}%"


def as_number(value: Any) -> float | None:
    """A finite float, or None for missing/NaN/text (bools are not numbers here)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compact_json(value: Any) -> str:
    """Lists and dicts as one short line (evidence values, Markdown fields)."""
    return _COMPACT.encode(value)


# json.dumps with options builds a new encoder per call; this one is made once.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def evidence_value(key: str, value: Any) -> str:
    """Evidence as text: units follow the key's suffix (`_percent`, `_usd`, ...)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, list | tuple | dict):
        return _compact_sequence(value)
    number = as_number(value)
    if number is None:
        return str(value)
    if key.endswith("_percent") or "_percent_of_" in key:
        return percent(number)
    if key.endswith("_usd"):
        # Hourly prices have 4-5 significant decimals; `$0.01` would hide them.
        return f"${number:,.5f}".rstrip("0").rstrip(".") if abs(number) < 1 else money(number)
    if key == "coverage" or key.endswith("_share"):
        return percent(number * 100)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}".rstrip("0").rstrip(".")


def _compact_sequence(value: Any) -> str:
    if isinstance(value, list) and all(as_number(item) is not None for item in value):
        return ", ".join(f"{float(item):g}" for item in value)
    return compact_json(value)


def humanize_key(key: str) -> str:
    """`cpu_p95_percent` -> `cpu p95 percent`: readable without a lookup table per rule."""
    return key.replace("_", " ")


def describe_setting(values: Any) -> str:
    """One side of "current -> recommended" in plain words.

    Knows the shapes DESIGN.md lists (Fargate size, capacity provider, RDS term, S3
    transitions); anything else falls back to `key: value` pairs so new rules still render.
    """
    if not isinstance(values, dict) or not values:
        return "—" if not values else str(values)
    if "cpu" in values and "memory" in values:
        return fargate_size(values["cpu"], values["memory"])
    if "capacity_provider" in values:
        return str(values["capacity_provider"])
    if "instance_class" in values:
        multi_az = " Multi-AZ" if values.get("multi_az") else ""
        return f"{values['instance_class']}{multi_az} on-demand"
    if "term" in values and "offering" in values:
        return f"{values['term']} {values['offering']} reservation"
    if "lifecycle" in values and len(values) == 1:
        return f"lifecycle: {values['lifecycle']}"
    if isinstance(values.get("transitions"), list):
        return _transitions(values["transitions"])
    return ", ".join(f"{humanize_key(str(k))}: {evidence_value(str(k), v)}"
                     for k, v in values.items())


def fargate_size(cpu_units: Any, memory_mib: Any) -> str:
    """1024 CPU units = 1 vCPU; Fargate memory is in MiB, shown in GB as the console does."""
    cpu, memory = as_number(cpu_units), as_number(memory_mib)
    if cpu is None or memory is None:
        return f"cpu {cpu_units} / memory {memory_mib}"
    return f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB"


def _transitions(transitions: list[Any]) -> str:
    steps = []
    for step in transitions:
        if isinstance(step, dict) and "storage_class" in step:
            steps.append(f"{step['storage_class']} after {step.get('days', '?')} days")
        else:
            steps.append(compact_json(step))
    return "; ".join(steps) or "—"


def change_text(finding: Finding) -> str:
    return f"{describe_setting(finding.current)} → {describe_setting(finding.recommended)}"


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def date_part(timestamp: Any) -> str:
    """`2026-11-17T00:00:00Z` -> `2026-11-17`; anything else unchanged."""
    text = "" if timestamp is None else str(timestamp)
    return text[:10] if len(text) >= 10 and text[4:5] == "-" else text


def timestamp_text(timestamp: Any) -> str:
    """`2026-12-01T06:00:00Z` -> `2026-12-01 06:00 UTC`."""
    text = "" if timestamp is None else str(timestamp)
    if len(text) >= 16 and text[10:11] == "T":
        suffix = " UTC" if text.endswith(("Z", "+00:00")) else ""
        return f"{text[:10]} {text[11:16]}{suffix}"
    return text


def apply_commands(finding: Finding) -> list[tuple[str, str]]:
    """A report finding's how_to_apply as (format, text) pairs, in APPLY_FORMATS order, the
    empty ones left out; nothing for a finding without it (an older report.json)."""
    commands = finding.how_to_apply
    if commands is None:
        return []
    return [(key, str(text)) for key in APPLY_FORMATS if (text := getattr(commands, key))]
