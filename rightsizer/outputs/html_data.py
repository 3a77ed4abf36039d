"""The findings of report.html as one compact JSON document the page's script renders from.

At 40,000+ findings a row of HTML per finding (with its details) is a 200,000-node page that
takes seconds to open. Instead every finding travels as a short array (repeated strings such
as rule, account, region, "current" and "recommended" stored once in a string table, the
resource id as a shared prefix plus the name), and the script draws only the rows on screen.
Details (reason, key facts, evidence, charts, commands) travel for the largest findings of
each rule (DETAILS_PER_RULE); a row without them says where its details are.

The details travel in a second element, parsed only when a reader opens a finding or searches,
so opening the page parses just the rows.

Safety: the JSON sits in `<script type="application/json">` elements, which the browser never
runs; `<`, `>` and `&` are written as `\\u003c`-style escapes so no value can close the element,
and the script puts every value into the page with textContent, never as markup.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rightsizer.outputs.charts import evidence_charts
from rightsizer.outputs.formatting import (
    APPLY_LABELS,
    SEVERITIES,
    apply_commands,
    as_number,
    describe_setting,
    evidence_value,
    humanize_key,
)
from rightsizer.outputs.key_facts import key_facts, pricing_note
from rightsizer.report.model import Finding

# Full details for this many findings of each rule (the largest savings first); every finding
# still has its row. Sized so the 100,000-resource benchmark page stays under 8 MB.
DETAILS_PER_RULE = 100

# Positions in a row array; report.js reads the same order (its ROW constant).
ROW_FIELDS = ("id", "name", "resource", "rule", "severity", "account", "region", "current",
              "recommended", "cost", "savings", "status", "since", "detail", "resource_type")

STATUS_CODES = {"": 0, "new": 1, "persisting": 2}


class _Strings:
    """A string table: each distinct string once, referred to by its index."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.items)
            self.items.append(text)
        return index


def findings_data(findings: list[Finding], rules_meta: dict[str, Any],
                  statuses: dict[str, dict[str, Any]], window_days: int | None) -> dict[str, Any]:
    """The document report.js renders the findings table from (see the module docstring)."""
    strings = _Strings()
    strings("")  # index 0 is the empty string
    rule_index: dict[str, int] = {}
    rules: list[dict[str, str]] = []
    detailed: dict[str, int] = {}
    details: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    settings: dict[str, int] = {}  # repr of a current/recommended dict -> its words' index

    def setting(values: Any) -> int:
        # The same few shapes repeat across thousands of findings: describe each once.
        key = repr(values)
        index = settings.get(key)
        if index is None:
            index = settings[key] = strings(describe_setting(values))
        return index

    for finding in _by_savings(findings):
        rule = finding.rule
        if rule not in rule_index:
            meta = rules_meta.get(rule) if isinstance(rules_meta.get(rule), dict) else {}
            rule_index[rule] = len(rules)
            rules.append({"id": rule, "title": str(meta.get("title") or rule),
                          "why": str(meta.get("why") or "")})
        detail = -1
        if detailed.get(rule, 0) < DETAILS_PER_RULE:
            detailed[rule] = detailed.get(rule, 0) + 1
            detail = len(details)
            details.append(finding_details(finding, window_days))
        entry = statuses.get(finding.id) if isinstance(statuses.get(finding.id), dict) else {}
        status = str(entry.get("status") or "")
        name = finding.name or finding.resource_id
        resource_id = finding.resource_id
        # Most ids end with the name (an ARN's last part): keep the prefix once in the table.
        resource: int | str = (strings(resource_id[: -len(name)])
                               if name and resource_id.endswith(name) else resource_id)
        rows.append([
            finding.id, name, resource, rule_index[rule],
            SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else 2,
            strings(finding.account), strings(finding.region),
            setting(finding.current), setting(finding.recommended),
            _amount(finding.monthly_cost_usd), _amount(finding.monthly_savings_usd),
            STATUS_CODES.get(status, 0), strings(str(entry.get("since") or "")),
            detail, strings(finding.resource_type),
        ])
    return {"fields": list(ROW_FIELDS), "strings": strings.items, "rules": rules,
            "severities": list(SEVERITIES), "rows": rows, "details": details,
            "details_per_rule": DETAILS_PER_RULE}


def finding_details(finding: Finding, window_days: int | None) -> dict[str, Any]:
    """What the page shows when a finding is opened: the reason, 4-6 key facts in words, the
    pricing basis, the full evidence (folded), the utilization charts and the commands."""
    evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
    detail: dict[str, Any] = {
        "reason": finding.reason,
        "facts": key_facts(finding, window_days),
        "evidence": [[humanize_key(str(k)), evidence_value(str(k), v)]
                     for k, v in evidence.items()],
        "commands": [[key, APPLY_LABELS[key], text] for key, text in apply_commands(finding)],
    }
    pricing = pricing_note(finding)
    if pricing:
        detail["pricing"] = pricing
    charts = evidence_charts(evidence)
    if charts:
        detail["charts"] = charts
    return detail


def embed_json(value: Any) -> str:
    """JSON safe inside a <script type="application/json"> element (see the module docstring)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _by_savings(findings: list[Finding]) -> list[Finding]:
    """Largest saving first (as report.json lists them; sorted again to be sure of it)."""
    return sorted(findings, key=lambda f: -(as_number(f.monthly_savings_usd) or 0.0))


def _amount(value: Any) -> float | None:
    if type(value) is float and math.isfinite(value):
        return round(value, 2)
    number = as_number(value)
    return None if number is None else round(number, 2)
