"""report.html: one self-contained page (inline CSS, JS and SVG) that works offline and by email.

Safety: every value reaches the page through Jinja2 with autoescape on, so names, tags, ARNs
and error messages from AWS render as text. No data is passed to the script at all (it reads
the DOM), and a Content-Security-Policy pins the one inline script by hash and blocks every
network load, so even a missed escape could neither run code nor phone home.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

import rightsizer
from rightsizer.outputs.charts import cost_trend_chart, evidence_charts, savings_trend_chart
from rightsizer.outputs.formatting import (
    APPLY_LABELS,
    MAX_LISTED_ROWS,
    SEVERITIES,
    apply_commands,
    as_number,
    date_part,
    describe_setting,
    evidence_value,
    humanize_key,
    money,
    severity_counts,
    timestamp_text,
)
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import Finding, Report, Summary

TEMPLATE = "report.html.j2"
TOP_ACTIONS = 3


def template_dirs() -> list[Path]:
    """Installed wheel first (templates/ is force-included as rightsizer/templates), then the
    repository's top-level templates/ for an editable checkout."""
    package_dir = Path(rightsizer.__file__).resolve().parent
    candidates = [package_dir / "templates", package_dir.parent / "templates"]
    return [path for path in candidates if (path / TEMPLATE).is_file()]


class _Environment(jinja2.Environment):
    """`row.name` on a view dict looks up the item first. Jinja tries the attribute first, and
    a dict has none of these: an AttributeError raised and caught for each of ~250,000 lookups
    on a 2,000-row page. Same result, since no view key is named like a dict method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    dirs = template_dirs()
    if not dirs:
        raise FileNotFoundError(f"{TEMPLATE} not found in rightsizer/templates or ./templates")
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(path) for path in dirs]),
        autoescape=True,  # everything, whatever the template's extension
        undefined=jinja2.StrictUndefined,  # a typo in the template fails tests, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    return env


def render_html(report: Report, context: dict[str, Any]) -> str:
    env = environment()
    script = _asset(env, "report.js")
    style = _asset(env, "report.css")
    view = build_view(report, context or {})
    return env.get_template(TEMPLATE).render(
        **view,
        # Our own static files, not data: safe to inline verbatim.
        style=Markup(style),
        script=Markup(script),
        csp=_content_security_policy(script),
    )


def _asset(env: jinja2.Environment, name: str) -> str:
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return source


def _content_security_policy(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


MAX_HTML_ROWS = MAX_LISTED_ROWS  # the page says where the rest are (see formatting)


def _nothing_found(report: Report) -> dict[str, Any] | None:
    """What was looked for and where, when report.inventory says nothing at all was found
    (an empty account or region is an answer; it should not read as "all right-sized")."""
    inventory = report.inventory
    if inventory is None or not inventory.empty:
        return None
    return {"looked_for": ", ".join(inventory.looked_for),
            "regions": ", ".join(inventory.regions),
            "accounts": ", ".join(inventory.accounts),
            "failed_reads": len(inventory.failed_reads)}


def build_view(report: Report, context: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, already formatted; missing context keys render empty."""
    rules_meta = _dict(context.get("rules"))
    findings = report.findings
    summary = report.summary
    rows = [_finding_view(f, rules_meta) for f in findings[:MAX_HTML_ROWS]]
    skipped = report.skipped
    history = _history_view(_dict(context.get("history")), rows)
    return {
        "header": _header_view(report, _dict(context.get("run"))),
        "cards": _cards_view(summary, findings, report, _dict(context.get("run"))),
        "history": history,
        "top_actions": _top_actions(rows),
        "rule_bars": _rule_bars(summary, rules_meta),
        "trend": cost_trend_chart(_list(context.get("cost_trend"))),
        "findings": rows,
        "rule_options": _rule_options(rows),
        "severities": SEVERITIES,
        "skipped": skipped[:MAX_HTML_ROWS],
        "findings_total": len(findings),
        "skipped_total": len(skipped),
        "errors": report.errors,
        "footer": _footer_view(context),
        "nothing_found": _nothing_found(report),
    }


def _header_view(report: Report, run: dict[str, Any]) -> dict[str, Any]:
    window = report.window
    return {
        "accounts": report.accounts,
        "regions": report.regions,
        "window_start": date_part(window.start),
        "window_end": date_part(window.end),
        "window_days": window.days,
        "generated_at": timestamp_text(report.generated_at),
        "demo": bool(run.get("demo")),
    }


def _cards_view(summary: Summary, findings: list[Finding], report: Report,
                run: dict[str, Any]) -> dict[str, Any]:
    monthly = as_number(summary.monthly_savings_usd)
    if monthly is None:  # not a number (null in report.json): what the findings say
        monthly = sum(as_number(f.monthly_savings_usd) or 0.0 for f in findings)
    api_calls = _dict(run.get("api_calls"))
    call_count = as_number(run.get("api_call_count"))
    if call_count is None and api_calls:
        call_count = sum(as_number(v) or 0.0 for v in api_calls.values())
    return {
        "monthly_savings": money(monthly),
        "yearly_savings": money(monthly * 12),
        "findings": summary.findings or len(findings),
        "severity_counts": severity_counts(findings),
        "skipped": len(report.skipped),
        "errors": len(report.errors),
        "api_cost": _small_money(run.get("api_cost_usd")),
        "api_calls": None if call_count is None else f"{call_count:,.0f}",
        "api_breakdown": sorted((str(k), v) for k, v in api_calls.items()),
        "duration": _duration(run.get("duration_seconds")),
    }


def _finding_view(finding: Finding, rules_meta: dict[str, Any]) -> dict[str, Any]:
    rule = finding.rule
    meta = _dict(rules_meta.get(rule))
    evidence = finding.evidence
    severity = finding.severity
    search = " ".join((finding.name, finding.resource_id, finding.account, finding.region,
                       rule, finding.reason))
    return {
        "id": finding.id,
        "rule": rule,
        "rule_title": str(meta.get("title") or rule),
        "rule_why": str(meta.get("why") or ""),
        "severity": severity,
        "severity_rank": SEVERITIES.index(severity) if severity in SEVERITIES else 9,
        "name": finding.name or finding.resource_id,
        "resource_id": finding.resource_id,
        "resource_type": finding.resource_type,
        "account": finding.account,
        "region": finding.region,
        "current": describe_setting(finding.current),
        "recommended": describe_setting(finding.recommended),
        "cost": money(finding.monthly_cost_usd),
        "cost_value": as_number(finding.monthly_cost_usd) or 0.0,
        "savings": money(finding.monthly_savings_usd),
        "savings_value": as_number(finding.monthly_savings_usd) or 0.0,
        "reason": finding.reason,
        "evidence": [(humanize_key(str(k)), evidence_value(str(k), v))
                     for k, v in evidence.items()],
        "charts": evidence_charts(evidence),
        # the finding's own how_to_apply, as report.json, report.md and findings.csv hold it
        "commands": [(key, APPLY_LABELS[key], text) for key, text in apply_commands(finding)],
        "search": search.lower(),
    }


def _history_view(history: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The "Since last month" card, and a NEW / "since <month>" mark on each finding row.

    rightsizer.report.history did the comparing; this only formats it. None (no card) when the
    report
    is not in a `<YYYY-MM>` folder, so there is no series of months to speak of.
    """
    if not history:
        for row in rows:
            row["status"], row["since"] = "", ""
        return None
    statuses = _dict(history.get("findings"))
    for row in rows:
        entry = _dict(statuses.get(row["id"]))
        row["status"] = str(entry.get("status") or "")
        row["since"] = str(entry.get("since") or "")
    resolved = [_dict(item) for item in _list(history.get("resolved_findings"))]
    previous = history.get("previous_month")
    return {
        "month": str(history.get("month") or ""),
        "previous_month": str(previous) if previous else None,
        "new": int(as_number(history.get("new")) or 0),
        "persisting": int(as_number(history.get("persisting")) or 0),
        "resolved": int(as_number(history.get("resolved")) or 0),
        "realized": money(history.get("realized_savings_usd") or 0),
        "resolved_rows": [{"name": str(item.get("name") or item.get("resource_id") or ""),
                           "rule": str(item.get("rule") or ""),
                           "region": str(item.get("region") or ""),
                           "savings": money(item.get("monthly_savings_usd"))}
                          for item in resolved],
        "chart": savings_trend_chart(_list(history.get("trend"))),
    }


def _top_actions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: -row["savings_value"])[:TOP_ACTIONS]


def _rule_bars(summary: Summary, rules_meta: dict[str, Any]) -> list[dict[str, Any]]:
    by_rule = summary.by_rule
    values = {rule: as_number(entry.monthly_savings_usd) or 0.0
              for rule, entry in by_rule.items()}
    top = max(values.values(), default=0.0)
    bars = []
    for rule in sorted(values, key=lambda r: (-values[r], r)):
        title = _dict(rules_meta.get(rule)).get("title") or rule
        bars.append({
            "rule": rule, "title": str(title), "savings": money(values[rule]),
            "findings": by_rule[rule].findings,
            # A tiny sliver keeps a $0.40 rule visible next to a $400 one.
            "width": round(max(values[rule] / top * 100, 1.5), 1) if top > 0 else 0,
        })
    return bars


def _rule_options(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(row["rule"], row["rule_title"])
    return [{"value": rule, "label": rule} for rule in sorted(seen)]


def _footer_view(context: dict[str, Any]) -> dict[str, Any]:
    sources = []
    for row in _list(context.get("pricing_sources")):
        row = _dict(row)
        source = str(row.get("source", ""))
        sources.append({
            "table": str(row.get("table", "")),
            "as_of": str(row.get("as_of", "")),
            "source": source,
            # Only https links are clickable: a `javascript:` URL survives HTML escaping.
            "link": source if source.startswith("https://") else None,
        })
    run = _dict(context.get("run"))
    return {"sources": sources, "tool_version": str(run.get("tool_version") or "")}


def _small_money(value: Any) -> str | None:
    """API charges are fractions of a cent; `$0.00` would read as "free" and hide the count."""
    number = as_number(value)
    if number is None:
        return None
    return money(number) if number == 0 or number >= 0.01 else f"${number:.4f}"


def _duration(value: Any) -> str | None:
    seconds = as_number(value)
    if seconds is None:
        return None
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


FORMAT = OutputFormat("html", "report.html", "the report for people: summary, findings, history",
                      render_html)
