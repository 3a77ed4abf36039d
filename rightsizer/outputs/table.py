"""The terminal table (`--format table`, and what `analyze` and `report` print on a terminal):
the top changes by monthly savings, the risks, and what last month's changes did.

Plans (each resource's findings combined) are listed when report.json has them, else the
findings; a row that would read $0.00 is left out and counted in the footer, as in Slack.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from rightsizer.outputs.formatting import (
    as_number,
    change_text,
    changes_line,
    count_text,
    describe_setting,
    human_window,
    money,
    report_history,
    report_rows,
    severity_counts,
)
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import Finding, Report

MAX_ROWS = 20  # a screenful; report.html and report.json hold every one
MAX_RISK_ROWS = 10
_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


def table_renderable(report: Report) -> RenderableType:
    """What the terminal shows, as rich renderables (colour where the console has it)."""
    parts: list[RenderableType] = [_heading(report)]
    verified = changes_line(report_history(report))
    if verified:
        parts.append(Text(verified))
    plans = report_rows(report, "plans")
    if any(_shows_money(plan.get("monthly_savings_usd")) for plan in plans):
        parts += _plans_table(plans, report.findings)
    else:  # no plans (an older report.json), or none that saves anything: the findings
        parts += _findings_table(report.findings)
    risks = report_rows(report, "risks")
    if risks:
        parts.append(_risks_table(risks))
    return Group(*parts)


def render_table(report: Report, width: int = 120) -> str:
    """The table as plain text (no colour codes): for a pipe, a file or a CI log."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      highlight=False)
    console.print(table_renderable(report))
    return console.file.getvalue()  # type: ignore[attr-defined]


def _heading(report: Report) -> Text:
    summary = report.summary
    savings = as_number(summary.monthly_savings_usd) or 0.0
    counts = severity_counts(report.findings)
    severity = ", ".join(f"{counts[s]:,} {s}" for s in counts if counts[s])
    text = Text()
    text.append(f"{money(savings)}/month", style="bold green")
    text.append(f" potential savings ({money(savings * 12)}/year) from "
                f"{count_text(summary.findings, 'finding')}"
                + (f" ({severity})" if severity else ""))
    text.append(f"\n{count_text(len(report.accounts), 'account')} · "
                f"{', '.join(report.regions) or 'no region'} · "
                f"{human_window(report.window.start, report.window.end)} "
                f"({report.window.days:,} days)", style="dim")
    return text


def _shows_money(value: Any) -> bool:
    number = as_number(value)
    return number is not None and round(number, 2) >= 0.01


def _table(title: str, *columns: tuple[str, dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, options in columns:
        table.add_column(name, **options)
    return table


def _findings_table(findings: list[Finding]) -> list[RenderableType]:
    shown = [f for f in sorted(findings, key=lambda f: -(as_number(f.monthly_savings_usd) or 0))
             if _shows_money(f.monthly_savings_usd)]
    if not findings:
        return [Text("No findings: nothing to change.")]
    table = _table("Top findings by monthly savings",
                   ("#", {"justify": "right"}), ("Severity", {}),
                   ("Resource / rule", {"overflow": "fold", "max_width": 34}),
                   ("Change", {"overflow": "fold", "min_width": 24}),
                   ("$/month", {"justify": "right", "no_wrap": True}))
    for number, finding in enumerate(shown[:MAX_ROWS], 1):
        table.add_row(str(number), Text(finding.severity,
                                        style=_SEVERITY_STYLE.get(finding.severity, "")),
                      _resource(finding.name or finding.resource_id, finding.rule),
                      change_text(finding), money(finding.monthly_savings_usd))
    return [table, *_footer(len(findings), min(len(shown), MAX_ROWS), "finding")]


def _plans_table(plans: list[dict[str, Any]], findings: list[Finding]) -> list[RenderableType]:
    by_id = {finding.id: finding for finding in findings}
    ranked = sorted(plans, key=lambda plan: -(as_number(plan.get("monthly_savings_usd")) or 0))
    shown = [plan for plan in ranked if _shows_money(plan.get("monthly_savings_usd"))]
    table = _table("Top changes by monthly savings (each resource's findings combined)",
                   ("#", {"justify": "right"}),
                   ("Resource", {"overflow": "fold", "max_width": 34}),
                   ("Steps", {"overflow": "fold", "min_width": 24}),
                   ("$/month", {"justify": "right", "no_wrap": True}))
    for number, plan in enumerate(shown[:MAX_ROWS], 1):
        steps = [by_id[step] for step in plan.get("steps") or [] if step in by_id]
        words = "\n".join(f"{f'{index}. ' if len(steps) > 1 else ''}{change_text(step)} "
                          f"({step.rule})" for index, step in enumerate(steps, 1)) \
            or str(plan.get("detail") or "")
        table.add_row(str(number), str(plan.get("name") or plan.get("resource_id") or "?"),
                      words, money(plan.get("monthly_savings_usd")))
    return [table, *_footer(len(plans), min(len(shown), MAX_ROWS), "resource")]


def _resource(name: str, rule: str) -> Text:
    text = Text(str(name))
    text.append(f"\n{rule}", style="dim")
    return text


def _footer(total: int, listed: int, noun: str) -> list[RenderableType]:
    if total <= listed:
        return []
    rest = total - listed
    return [Text(f"…and {rest:,} more {noun if rest == 1 else noun + 's'} (saving less, or "
                 "under a cent) in report.html and report.json", style="dim")]


def _risks_table(risks: list[dict[str, Any]]) -> Table:
    table = _table(f"Risks: {count_text(len(risks), 'resource')} short of capacity "
                   "(cost more; not in the savings)",
                   ("Severity", {}),
                   ("Resource / rule", {"overflow": "fold", "max_width": 34}),
                   ("Change", {"overflow": "fold", "min_width": 24}),
                   ("+$/month", {"justify": "right", "no_wrap": True}))
    for risk in risks[:MAX_RISK_ROWS]:
        severity = str(risk.get("severity") or "")
        recommended = risk.get("recommended") or {}
        change = (f"{describe_setting(risk.get('current') or {})} → "
                  f"{describe_setting(recommended)}" if recommended else "no valid larger size")
        table.add_row(Text(severity, style=_SEVERITY_STYLE.get(severity, "")),
                      _resource(str(risk.get("name") or risk.get("resource_id") or "?"),
                                str(risk.get("rule") or "")), change,
                      money(risk.get("monthly_cost_change_usd")))
    if len(risks) > MAX_RISK_ROWS:
        table.caption = f"…and {len(risks) - MAX_RISK_ROWS:,} more in report.html"
    return table


FORMAT = OutputFormat("table", "", "the top findings as a table on stdout (a terminal or a CI "
                      "log)", lambda report, _context: render_table(report), stdout=True)
