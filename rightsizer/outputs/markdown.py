"""report.md: a summary that pastes into an issue, a PR comment or a wiki page."""

from __future__ import annotations

import re
from typing import Any

from rightsizer.outputs.formatting import (
    APPLY_LABELS,
    APPLY_LANGUAGES,
    MAX_LISTED_ROWS,
    SEVERITIES,
    apply_commands,
    change_text,
    compact_json,
    date_part,
    evidence_value,
    money,
    severity_counts,
    timestamp_text,
)
from rightsizer.outputs.registry import OutputFormat
from rightsizer.report.model import ErrorRow, Finding, Report, Skipped

# CommonMark backslash-escapes any ASCII punctuation; escaping these keeps an AWS name such as
# `a|b` or `<img ...>` from breaking the table or injecting markup. The backslash goes first, so
# the escapes added after it are not escaped again.
_SPECIAL = ("\\", "`", "*", "_", "{", "}", "[", "]", "<", ">", "|", "~", "&")


def render_markdown(report: Report) -> str:
    sections = [
        _header(report),
        _summary(report),
        _findings(report.findings),
        _skipped(report.skipped),
        _errors(report.errors),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _header(report: Report) -> str:
    window = report.window
    lines = [
        "# rightsizer report",
        "",
        f"- Accounts: {_text(', '.join(report.accounts) or '—')}",
        f"- Regions: {_text(', '.join(report.regions) or '—')}",
        f"- Window: {_text(date_part(window.start))} to "
        f"{_text(date_part(window.end))} ({_text(window.days)} days)",
        f"- Generated: {_text(timestamp_text(report.generated_at))}",
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
        f"({money((total or 0) * 12)} / year) from {summary.findings} "
        "findings"
        + (" (" + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)) + ")"
           if findings else "") + ".",
    ]
    by_rule = summary.by_rule
    if by_rule:
        lines += ["", "| Rule | Findings | Monthly savings |", "|---|---:|---:|"]
        ranked = sorted(by_rule.items(), key=lambda item: -(item[1].monthly_savings_usd or 0))
        for rule, entry in ranked:
            lines.append(f"| {_text(rule)} | {entry.findings} | "
                         f"{money(entry.monthly_savings_usd)} |")
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
        lines += ["", f"**{number}. {_text(finding.name)}** ({_text(finding.rule)})"]
        for key, text in commands:
            fence = _fence(text)
            lines += ["", f"{APPLY_LABELS[key]}:", "", f"{fence}{APPLY_LANGUAGES[key]}", text,
                      fence]
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
    lines = [f"## Skipped resources ({len(skipped)})", "",
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
    lines = [f"## Errors ({len(errors)})", "",
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
