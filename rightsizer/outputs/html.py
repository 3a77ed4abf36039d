"""report.html: one self-contained page (inline CSS, JS and SVG) that works offline and by email.

Safety: every value reaches the page through Jinja2 with autoescape on, so names, tags, ARNs
and error messages from AWS render as text. The findings table is drawn by the script from a
JSON element (html_data: escaped so no value can close it; the script writes values with
textContent only), and a Content-Security-Policy pins the one inline script by hash and blocks
every network load, so even a missed escape could neither run code nor phone home.
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
from rightsizer.outputs.charts import cost_trend_chart, savings_trend_chart
from rightsizer.outputs.formatting import (
    SEVERITIES,
    as_number,
    changes_line,
    date_part,
    describe_setting,
    money,
    report_history,
    report_rows,
    severity_counts,
    timestamp_text,
)
from rightsizer.outputs.html_data import embed_json, findings_data
from rightsizer.outputs.html_sections import (
    bill_view,
    notices_view,
    plans_view,
    risks_view,
    skipped_view,
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
    env.filters["count"] = thousands
    return env


def thousands(value: Any) -> str:
    """A count with thousands separators: `43,564`."""
    number = as_number(value)
    return "—" if number is None else f"{number:,.0f}"


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


# Without the script (an email viewer, a locked-down browser) the page lists this many of the
# largest findings as plain rows; the script draws every finding from the embedded data.
NO_SCRIPT_ROWS = 25


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
    history_context = _dict(context.get("history"))
    statuses = _dict(history_context.get("findings"))
    largest = sorted(findings, key=lambda f: -(as_number(f.monthly_savings_usd) or 0.0))
    rows = [_finding_view(f, rules_meta, statuses) for f in largest[:NO_SCRIPT_ROWS]]
    data = findings_data(largest, rules_meta, statuses, report.window.days)
    risks = report_rows(report, "risks")
    return {
        "header": _header_view(report, _dict(context.get("run"))),
        "notices": notices_view(_plain_extra(report, "notices")),
        "cards": _cards_view(summary, findings, report, _dict(context.get("run"))),
        "bill": bill_view(_plain_extra(summary, "bill"), rules_meta),
        "history": _history_view(history_context),
        # "3 changes applied since last month: 2 held, 1 regressed, $41.20/month realized"
        "verified": changes_line(report_history(report)),
        "top_actions": _top_actions(largest, rules_meta, statuses, report_rows(report, "plans")),
        "rule_bars": _rule_bars(summary, rules_meta),
        "trend": cost_trend_chart(_list(context.get("cost_trend")), report.generated_at),
        "findings": rows,
        # escaped for the element by embed_json; the details apart (parsed on first use)
        "findings_json": Markup(embed_json({k: v for k, v in data.items() if k != "details"})),
        "details_json": Markup(embed_json(data["details"])),
        "rule_options": _rule_options(summary, data["rules"], data["rows"]),
        "severities": SEVERITIES,
        "details_per_rule": data["details_per_rule"],
        "findings_total": len(findings),
        "risks": risks_view(risks, rules_meta),
        "risks_total": len(risks),
        "skipped": skipped_view(report.skipped),
        "skipped_total": len(report.skipped),
        "errors": report.errors,
        "footer": _footer_view(context),
        "nothing_found": _nothing_found(report),
    }


def _plain_extra(part: Any, key: str) -> Any:
    """An additive report.json key (plans, risks, notices, summary.bill, history) as plain
    dicts and lists, or None when this report does not hold it."""
    try:
        value = part[key]
    except (KeyError, TypeError):
        return None
    return _plain_value(value)


def _plain_value(value: Any) -> Any:
    if hasattr(value, "to_plain"):
        return value.to_plain()
    if isinstance(value, list):
        return [_plain_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain_value(item) for key, item in value.items()}
    return value


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
        "findings": thousands(summary.findings or len(findings)),
        "severity_counts": severity_counts(findings),
        "skipped": thousands(len(report.skipped)),
        "errors": len(report.errors),
        "errors_text": thousands(len(report.errors)),
        "api_cost": _small_money(run.get("api_cost_usd")),
        "api_calls": None if call_count is None else f"{call_count:,.0f}",
        "api_breakdown": sorted((str(k), v) for k, v in api_calls.items()),
        "duration": _duration(run.get("duration_seconds")),
    }


def _finding_view(finding: Finding, rules_meta: dict[str, Any],
                  statuses: dict[str, Any]) -> dict[str, Any]:
    """One of the plain rows shown without the script (and the top actions' text)."""
    rule = finding.rule
    meta = _dict(rules_meta.get(rule))
    entry = _dict(statuses.get(finding.id))
    return {
        "id": finding.id,
        "rule": rule,
        "rule_title": str(meta.get("title") or rule),
        "severity": finding.severity,
        "name": finding.name or finding.resource_id,
        "resource_id": finding.resource_id,
        "account": finding.account,
        "region": finding.region,
        "current": describe_setting(finding.current),
        "recommended": describe_setting(finding.recommended),
        "savings": money(finding.monthly_savings_usd),
        "savings_value": as_number(finding.monthly_savings_usd) or 0.0,
        "reason": finding.reason,
        "status": str(entry.get("status") or ""),
        "since": str(entry.get("since") or ""),
        "steps": [],  # a plan's steps (top actions from report.json plans)
        "detail": [],
    }


def _history_view(history: dict[str, Any]) -> dict[str, Any] | None:
    """The "Since last month" card; the NEW / "since <month>" marks travel with the rows.

    rightsizer.report.history did the comparing; this only formats it. None (no card) when the
    report is not in a `<YYYY-MM>` folder, so there is no series of months to speak of.
    """
    if not history:
        return None
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


def _top_actions(largest: list[Finding], rules_meta: dict[str, Any], statuses: dict[str, Any],
                 plans: Any) -> list[dict[str, Any]]:
    """The biggest changes, each resource once: its plan (the stacked steps) when report.json
    has plans, else its largest finding."""
    by_id = {f.id: f for f in largest}
    if isinstance(plans, list) and plans:
        return plans_view(plans, by_id, rules_meta, TOP_ACTIONS,
                          lambda f: _finding_view(f, rules_meta, statuses))
    actions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in largest:
        if finding.resource_id in seen:
            continue
        seen.add(finding.resource_id)
        actions.append(_finding_view(finding, rules_meta, statuses))
        if len(actions) == TOP_ACTIONS:
            break
    return actions


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


def _rule_options(summary: Summary, rules: list[dict[str, str]],
                  rows: list[list[Any]]) -> list[dict[str, str]]:
    """Every rule with findings (summary.by_rule and the rows), with its count."""
    counts: dict[str, int] = {}
    for row in rows:
        rule = rules[row[3]]["id"]
        counts[rule] = counts.get(rule, 0) + 1
    for rule, entry in summary.by_rule.items():
        counts.setdefault(rule, int(as_number(entry.findings) or 0))
    return [{"value": rule, "label": f"{rule} ({counts[rule]:,})"}
            for rule in sorted(counts) if counts[rule]]


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
