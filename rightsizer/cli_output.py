"""What `analyze` and `report` print when they are done: the totals and the files written on
stderr; on stdout the table of top findings (on a terminal, or with `--format table`), else
the path of report.json for a script to pick up."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rightsizer.outputs.formatting import change_text, count_text, money
from rightsizer.report.model import Finding, Report, Risk

MAX_FAIL_ON_LINES = 20


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def print_result(report: Report, written: list[Path], formats: list[str], quiet: bool) -> None:
    summary = report.summary
    if not quiet:
        typer.echo(
            f"{count_text(summary.findings, 'finding')}, "
            f"{money(summary.monthly_savings_usd or 0)}/month potential savings; "
            f"{len(report.skipped):,} skipped, {count_text(len(report.errors), 'error')}",
            err=True)
        for path in written:
            typer.echo(f"  wrote {path}", err=True)
    terminal = stdout_is_terminal()
    if "table" in formats or (terminal and not quiet):
        print_table(report, terminal)
    elif not terminal and written:
        typer.echo(str(written[0]))  # report.json: always written, always first


def print_table(report: Report, terminal: bool) -> None:
    from rightsizer.outputs.table import render_table, table_renderable

    if terminal:
        from rich.console import Console

        Console(highlight=False).print(table_renderable(report))
    else:
        typer.echo(render_table(report), nl=False)


def fail_on_lines(tripped: list[Finding], fail_on: str, risks: list[Risk] | None = None
                  ) -> list[str]:
    """The findings (largest saving first) and risks (largest fix first) that made --fail-on
    exit 1."""
    risks = risks or []
    counted = " and ".join(text for text in (
        count_text(len(tripped), "finding") if tripped else "",
        count_text(len(risks), "risk") if risks else "") if text)
    lines = [f"rightsizer: --fail-on {fail_on}: {counted} at or above {fail_on}:"]
    rows = [(finding, f"{change_text(finding)}, {money(finding.monthly_savings_usd)}/month")
            for finding in sorted(tripped, key=lambda f: -(f.monthly_savings_usd or 0))]
    rows += [(risk, f"at risk: {change_text(risk) if risk.recommended else 'no valid fix'}, "
                    f"+{money(risk.monthly_cost_change_usd or 0)}/month to fix")
             for risk in sorted(risks, key=lambda r: -(r.monthly_cost_change_usd or 0))]
    for item, text in rows[:MAX_FAIL_ON_LINES]:
        lines.append(f"  {item.severity:<6} {item.name or item.resource_id} "
                     f"({item.rule}, {item.account}/{item.region}): {text}")
    if len(rows) > MAX_FAIL_ON_LINES:
        lines.append(f"  …and {len(rows) - MAX_FAIL_ON_LINES:,} more in report.json")
    return lines
