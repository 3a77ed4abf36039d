"""What `analyze` and `report` print when they are done: the totals and the files written on
stderr; on stdout the table of top findings (on a terminal, or with `--format table`), else
the path of report.json for a script to pick up."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rightsizer.outputs.formatting import change_text, count_text, money
from rightsizer.report.model import Finding, Report

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


def fail_on_lines(tripped: list[Finding], fail_on: str) -> list[str]:
    """The findings that made --fail-on exit 1, largest saving first."""
    ranked = sorted(tripped, key=lambda f: -(f.monthly_savings_usd or 0))
    lines = [f"rightsizer: --fail-on {fail_on}: {count_text(len(tripped), 'finding')} at or "
             f"above {fail_on}:"]
    for finding in ranked[:MAX_FAIL_ON_LINES]:
        lines.append(f"  {finding.severity:<6} {finding.name or finding.resource_id} "
                     f"({finding.rule}, {finding.account}/{finding.region}): "
                     f"{change_text(finding)}, {money(finding.monthly_savings_usd)}/month")
    if len(ranked) > MAX_FAIL_ON_LINES:
        lines.append(f"  …and {len(ranked) - MAX_FAIL_ON_LINES:,} more in report.json")
    return lines
