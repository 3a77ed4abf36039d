"""The run, stage by stage: collect -> snapshot -> rules -> report. The CLI and the scheduler
both call down into this module; nothing here prints or exits."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rightsizer.collect.shards import Shard
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.report import suppression
from rightsizer.report.build import analyze
from rightsizer.report.history import build_history, with_history
from rightsizer.report.model import Report
from rightsizer.snapshot.store import Snapshot

Notice = Callable[[str], None]


def collect(config: Config, demo: bool = False, *, progress: bool = False,
            account_filter: set[str] | None = None, workers: int | None = 1,
            shard: Shard | None = None) -> Snapshot:
    """A snapshot of the configured accounts, or of the embedded demo account; `workers`
    processes side by side, `shard` one share of the accounts (collect/shards.py)."""
    from rightsizer.aws.clients import make_session
    from rightsizer.collect.run import collect_snapshot

    if demo:
        demo_config, demo_session = _demo()
        config = demo_config(config)
        with demo_session(config) as (session, now):
            return collect_snapshot(config, session, now=now, demo=True, progress=progress,
                                    workers=workers, shard=shard)
    return collect_snapshot(config, make_session(), progress=progress,
                            account_filter=account_filter, workers=workers, shard=shard)


def _demo() -> tuple[Any, Any]:
    """The demo's entry points; moto is an extra, so say how to get it when it is missing."""
    try:
        import moto  # noqa: F401

        from rightsizer.demo.run import demo_config, demo_session
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "moto":
            raise
        raise RightsizerError("--demo needs moto, which the demo extra installs: "
                              "pip install \"rightsizer[demo]\" (or \".[demo]\" in a checkout)"
                              ) from None
    return demo_config, demo_session


def checked_inventory(snapshot: Snapshot, notice: Notice | None = None) -> dict[str, Any]:
    """report.json's "inventory" for a fresh snapshot. Raises when every inventory read
    failed; an account (or region) that holds nothing is said through `notice`."""
    from rightsizer.collect.engine import check_collected, empty_notice

    coverage = check_collected(snapshot)
    message = empty_notice(coverage)
    if message and notice is not None:
        notice(message)
    return coverage


def report_dir(output: Path | None, config: Config, snapshot: Snapshot) -> Path:
    """--output, or <report.directory>/<YYYY-MM> of the window's end."""
    if output is not None:
        return output
    return Path(config.report.directory) / snapshot.window_end.strftime("%Y-%m")


def report_for(snapshot: Snapshot, config: Config, output: Path | None,
               inventory: dict[str, Any]) -> tuple[Report, dict[str, Any], Path]:
    """Rules and report for a snapshot, with its month-over-month history. The report is
    the typed model every output reads; built here from build_report's dict, unvalidated
    (Report.from_build: this process made it)."""
    data, context = analyze(snapshot, config)
    data["inventory"] = inventory  # additive to schema_version "1"
    if "collection" in snapshot.manifest:  # a sharded run's shards (snapshot/runs.py)
        data["collection"] = snapshot.manifest["collection"]
    report = Report.from_build(data)
    out_dir = report_dir(output, config, snapshot)
    # Compared with earlier months only, so re-running a month gives the same history; the
    # snapshot verifies last month's applied changes. The demo brings its own last month
    # (used when no earlier month is on disk).
    planted = _demo_last_month(snapshot) if snapshot.manifest.get("demo") else None
    today = snapshot.window_end.date()

    def suppressed(rule: str, resource_id: str, name: str, tags: dict[str, str]) -> bool:
        return suppression.check(config.suppress, rule, resource_id, name, tags,
                                 today).suppressed

    history = build_history(report, out_dir, snapshot=snapshot, planted=planted,
                            suppressed=suppressed)
    context["history"] = history
    return with_history(report, history), context, out_dir


def _demo_last_month(snapshot: Snapshot) -> list[tuple[str, Report]]:
    from rightsizer.demo.last_month import planted_report

    accounts = snapshot.manifest.get("accounts") or []
    return [planted_report(snapshot.window_end, *accounts[:1])]


def run_analysis(config: Config, demo: bool, output: Path | None, *, progress: bool = False,
                 notice: Notice | None = None,
                 workers: int | None = 1) -> tuple[Report, dict[str, Any], Path]:
    """collect + analyze (`analyze` and `schedule`); returns the report and where it goes."""
    started = time.monotonic()
    snapshot = collect(config, demo, progress=progress, workers=workers)
    inventory = checked_inventory(snapshot, notice)
    report, context, out_dir = report_for(snapshot, config, output, inventory)
    context["run"]["duration_seconds"] = round(time.monotonic() - started, 2)
    return report, context, out_dir
