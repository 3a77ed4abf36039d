"""report.md: GitHub-flavoured Markdown that pastes into an issue, a PR comment or a wiki page:
the summary, each resource's plan and the risks first, then every finding with its reason and
the commands that apply it (each in a folded block, so a pasted comment stays short)."""

from __future__ import annotations

import html
import re
from typing import Any

from rightsizer.outputs.formatting import (
    APPLY_LABELS,
    APPLY_LANGUAGES,
    MAX_LISTED_ROWS,
    SEVERITIES,
    apply_commands,
    as_number,
    change_text,
    changes_line,
    compact_json,
    count_text,
    describe_setting,
    evidence_value,
    human_timestamp,
    human_window,
    money,
    report_history,
    report_rows,
    severity_counts,
)
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import ErrorRow, Finding, Report, Skipped

# CommonMark backslash-escapes any ASCII punctuation; escaping these keeps an AWS name such as
# `a|b` or `<img ...>` from breaking the table or injecting markup. The backslash goes first, so
# the escapes added after it are not escaped again.
_SPECIAL = ("\\", "`", "*", "_", "{", "}", "[", "]", "<", ">", "|", "~", "&")


# GitHub refuses a comment, issue or PR body over 65,536 characters: its API answers "Body is
# too long (maximum is 65536 characters)" (quoted in https://github.com/danger/danger/issues/424).
GITHUB_BODY_LIMIT = 65_536


def render_markdown(report: Report) -> str:
    sections = [
        _header(report),
        _summary(report),
        _plans(report),
        _risks(report),
        _findings(report.findings),
        _skipped(report.skipped),
        _errors(report.errors),
    ]
    text = "\n\n".join(section for section in sections if section) + "\n"
    if len(text) > GITHUB_BODY_LIMIT:
        title, _, rest = text.partition("\n")
        note = (f"> This page has {len(text):,} characters; a GitHub comment, issue or pull "
                f"request description holds {GITHUB_BODY_LIMIT:,}: paste the sections you need "
                "(the summary and the plans come first), or link the file.")
        text = f"{title}\n\n{note}\n{rest}"
    return text


def _header(report: Report) -> str:
    window = report.window
    lines = [
        "# rightsizer report",
        "",
        f"- Accounts: {_text(', '.join(report.accounts) or '—')}",
        f"- Regions: {_text(', '.join(report.regions) or '—')}",
        f"- Window: {_text(human_window(window.start, window.end))} ({window.days:,} days)",
        f"- Generated: {_text(human_timestamp(report.generated_at))}",
    ]
    return "\n".join(lines)


def _summary(report: Report) -> str:
    summary = report.summary
    findings = report.findings
    total = summary.monthly_savings_usd
    counts = severity_counts(findings)
    lines = [
        "## Summary",
        "",
        f"**Potential savings: {money(total)} / month** "
        f"({money((total or 0) * 12)} / year) from {count_text(summary.findings, 'finding')}"
        + (" (" + ", ".join(f"{counts[s]:,} {s}" for s in SEVERITIES if counts.get(s)) + ")"
           if findings else "") + ".",
    ]
    verified = changes_line(report_history(report))
    if verified:
        lines += ["", f"**Verified:** {_text(verified)}."]
    by_rule = summary.by_rule
    if by_rule:
        lines += ["", "| Rule | Findings | Monthly savings |", "|---|---:|---:|"]
        ranked = sorted(by_rule.items(), key=lambda item: -(item[1].monthly_savings_usd or 0))
        for rule, entry in ranked:
            lines.append(f"| {_text(rule)} | {entry.findings:,} | "
                         f"{money(entry.monthly_savings_usd)} |")
    return "\n".join(lines)


def _plans(report: Report) -> str:
    """Each resource's findings combined, one row a resource (report.json `plans`)."""
    plans = [plan for plan in report_rows(report, "plans")
             if as_number(plan.get("monthly_savings_usd"))]
    if not plans:
        return ""
    plans.sort(key=lambda plan: -(as_number(plan.get("monthly_savings_usd")) or 0))
    by_id = {finding.id: finding for finding in report.findings}
    lines = ["## Plans (each resource's findings combined)", "",
             "| # | Resource | Steps, in order | Monthly savings |", "|---:|---|---|---:|"]
    for number, plan in enumerate(plans[:MAX_LISTED_ROWS], 1):
        steps = [by_id[step] for step in plan.get("steps") or [] if step in by_id]
        # <br> is a line break inside a GitHub table cell; the step texts are escaped first
        words = "<br>".join(f"{f'{index}. ' if len(steps) > 1 else ''}"
                            f"{_text(change_text(step))} ({_text(step.rule)})"
                            for index, step in enumerate(steps, 1))
        lines.append(f"| {number} | {_text(plan.get('name') or plan.get('resource_id'))} | "
                     f"{words or _text(plan.get('detail'))} | "
                     f"**{money(plan.get('monthly_savings_usd'))}** |")
    if len(plans) > MAX_LISTED_ROWS:
        lines += ["", f"Showing the {MAX_LISTED_ROWS:,} largest of {len(plans):,} plans; all "
                      "are in report.json."]
    return "\n".join(lines)


def _risks(report: Report) -> str:
    """Under-provisioned resources: what fixing them costs, never counted in the savings."""
    risks = report_rows(report, "risks")
    if not risks:
        return ""
    lines = [f"## Risks ({len(risks):,}): short of capacity, not counted in the savings", "",
             "| Severity | Resource | Rule | Change | Monthly cost change | Why |",
             "|---|---|---|---|---:|---|"]
    for risk in risks[:MAX_LISTED_ROWS]:
        recommended = risk.get("recommended") or {}
        change = (f"{describe_setting(risk.get('current') or {})} → "
                  f"{describe_setting(recommended)}" if recommended else "no valid larger size")
        increase = as_number(risk.get("monthly_cost_change_usd"))
        lines.append(f"| {_text(risk.get('severity'))} | "
                     f"{_text(risk.get('name') or risk.get('resource_id'))} | "
                     f"{_text(risk.get('rule'))} | {_text(change)} | "
                     f"{'+' if increase and increase > 0 else ''}{money(increase)} | "
                     f"{_text(risk.get('reason'))} |")
    return "\n".join(lines)


def _findings(findings: list[Finding]) -> str:
    if not findings:
        return "## Findings\n\nNo savings found: every resource checked looks right-sized."
    total = len(findings)
    findings = findings[:MAX_LISTED_ROWS]  # the largest: report.json keeps them in that order
    lines = ["## Findings (by monthly savings)", ""]
    if total > len(findings):
        lines += [f"Showing the {len(findings):,} largest of {total:,} findings; every finding is "
                  "in report.json (and findings.csv with `--format csv`).", ""]
    lines += [
        "| # | Rule | Severity | Resource | Region | Change | Monthly cost | Monthly savings |",
        "|---:|---|---|---|---|---|---:|---:|",
    ]
    for number, finding in enumerate(findings, 1):
        lines.append(
            f"| {number} | {_text(finding.rule)} | {_text(finding.severity)} | "
            f"{_text(finding.name)} | {_text(finding.region)} | "
            f"{_text(change_text(finding))} | {money(finding.monthly_cost_usd)} | "
            f"**{money(finding.monthly_savings_usd)}** |"
        )
    lines += ["", "### Why"]
    for number, finding in enumerate(findings, 1):
        lines.append(f"{number}. **{_text(finding.name)}**: {_text(finding.reason)}")
    lines += _how_to_apply(findings)
    # The table is for reading; this folded block carries every other report.json finding
    # field, so the Markdown holds the same columns as the JSON and the CSV.
    lines += ["", "<details><summary>All finding fields (as in report.json)</summary>", ""]
    for number, finding in enumerate(findings, 1):
        lines.append(f"{number}. **{_text(finding.name)}** · id {_text(finding.id)}"
                     f" · {_text(finding.rule)} · {_text(finding.severity)}")
        lines.append(f"   - {_text(finding.resource_type)} "
                     f"{_text(finding.resource_id)} · account "
                     f"{_text(finding.account)} · {_text(finding.region)}")
        lines.append(f"   - current {_text(_raw(finding.current))} · recommended "
                     f"{_text(_raw(finding.recommended))} · monthly cost "
                     f"{money(finding.monthly_cost_usd)} · monthly savings "
                     f"{money(finding.monthly_savings_usd)}")
        evidence = finding.evidence
        if evidence:
            lines.append("   - evidence: " + _text("; ".join(
                f"{key} {evidence_value(str(key), value)}" for key, value in evidence.items())))
    lines += ["", "</details>"]
    return "\n".join(lines)


def _how_to_apply(findings: list[Finding]) -> list[str]:
    """Each finding's commands as fenced code blocks (bash, hcl, ts), verbatim: inside a fence
    Markdown renders nothing, so the text pastes exactly as report.json holds it."""
    lines: list[str] = []
    for number, finding in enumerate(findings, 1):
        commands = apply_commands(finding)
        if not commands:
            continue
        tools = ", ".join(APPLY_LABELS[key] for key, _ in commands)
        # folded, so a pasted PR comment lists the findings and each command is one click away;
        # GitHub renders Markdown inside <details> after a blank line
        lines += ["", f"**{number}. {_text(finding.name)}** ({_text(finding.rule)}): "
                      f"{_text(change_text(finding))}",
                  "", f"<details><summary>{html.escape(tools)}</summary>"]
        for key, text in commands:
            fence = _fence(text)
            lines += ["", f"{APPLY_LABELS[key]}:", "", f"{fence}{APPLY_LANGUAGES[key]}", text,
                      fence]
        lines += ["", "</details>"]
    return ["", "### How to apply", *lines] if lines else []


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run in the text, so none can close it."""
    if "```" not in text:
        return "```"
    return "`" * (max(map(len, re.findall("`+", text))) + 1)


def _raw(value: Any) -> str:
    return compact_json(value) if isinstance(value, dict | list) else str(value)


def _skipped(skipped: list[Skipped]) -> str:
    if not skipped:
        return ""
    lines = [f"## Skipped resources ({len(skipped):,})", "",
             "| Rule | Resource | Region | Reason | Detail |", "|---|---|---|---|---|"]
    for row in skipped[:MAX_LISTED_ROWS]:
        lines.append(f"| {_text(row.rule)} | {_text(row.name)} | {_text(row.region)} | "
                     f"{_text(row.reason)} | {_text(row.detail)} |")
    if len(skipped) > MAX_LISTED_ROWS:
        lines += ["", f"Showing {MAX_LISTED_ROWS:,} of {len(skipped):,} skipped resources; "
                      "all are in report.json."]
    return "\n".join(lines)


def _errors(errors: list[ErrorRow]) -> str:
    if not errors:
        return ""
    lines = [f"## Errors ({len(errors):,})", "",
             "| Account | Region | Service | Operation | Code | Message |",
             "|---|---|---|---|---|---|"]
    for row in errors:
        cells = (row.account, row.region, row.service, row.operation, row.code, row.message)
        lines.append("| " + " | ".join(_text(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _text(value: Any) -> str:
    """One table-safe line: markdown punctuation escaped, newlines folded."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    for char in _SPECIAL:  # str.replace per character: quicker than re.sub on short cells
        if char in text:
            text = text.replace(char, "\\" + char)
    return text


FORMAT = OutputFormat("md", "report.md", "the report as Markdown (a wiki page, a PR comment)",
                      lambda report, _context: render_markdown(report))
