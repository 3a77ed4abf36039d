"""Month over month: compare a report with the earlier ones kept in `<reports>/<YYYY-MM>/`.

Findings are matched by their stable `id` (rule + account + region + resource), so a finding that
is still there next month is "persisting", one that appears is "new" and one that disappeared is
"resolved". Only months strictly before this report's month are read: re-running a month replaces
its own files and gives the same comparison, because it never compares a report with itself.

Read-only and forgiving: a missing, unreadable or foreign report.json in an older month is skipped
with a warning; history is a nice-to-have and must never stop a monthly run. Every report.json is
read through the model (rightsizer.report.model), so "foreign" means "not a valid report".
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rightsizer.errors import RightsizerError
from rightsizer.report.model import (
    Report,
    as_report,
    built_history,
    built_risks,
    load_report_json,
)
from rightsizer.report.verify import Suppressed, changes_summary, verify_changes
from rightsizer.snapshot.store import Snapshot

log = logging.getLogger("rightsizer.report.history")

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
REPORT_FILE = "report.json"
HISTORY_FILE = "history.json"


def load_report(path: Path) -> Report:
    """Read and validate a report.json written by rightsizer; anything else (missing,
    unreadable, not JSON, another schema, a field of the wrong shape) is a RightsizerError of
    one line starting with the path."""
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise RightsizerError(f"{path}: report not found") from None
    except OSError as exc:
        raise RightsizerError(f"{path}: cannot read: {exc}") from None
    return load_report_json(text, str(path))


def month_of(out_dir: Path) -> str | None:
    """`reports/2026-12` -> "2026-12"; None for a directory not named after a month."""
    name = Path(out_dir).name
    return name if MONTH.fullmatch(name) else None


def earlier_reports(reports_dir: Path, month: str) -> list[tuple[str, dict[str, Any]]]:
    """(month, report) for every readable `<reports_dir>/<YYYY-MM>/report.json` before `month`,
    oldest first, each cut to what compare() reads. Unreadable ones are logged and left out."""
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        candidates = sorted(p for p in Path(reports_dir).iterdir()
                            if p.is_dir() and MONTH.fullmatch(p.name) and p.name < month)
    except OSError as exc:
        log.warning("cannot list %s for history: %s", reports_dir, exc)
        return []
    for directory in candidates:
        path = directory / REPORT_FILE
        if not path.is_file():
            continue  # e.g. a month that only holds a `collect` snapshot
        try:
            found.append((directory.name, _for_history(load_report(path))))
        except RightsizerError as exc:
            log.warning("ignoring an earlier report for history: %s", exc)
    return found


# What compare() reads of a finding. An earlier report keeps only these: a year of 70 MB
# reports, evidence and all, would otherwise be gigabytes held at once.
_HISTORY_KEYS = ("id", "rule", "name", "resource_id", "account", "region",
                 "monthly_savings_usd")
# ... and, of a finding whose change can be verified next month (report.verify), the sizes and
# the headroom it promised.
_VERIFIABLE = {"ecs-rightsize": ("peak_headroom_percent", "headroom_percent"),
               "rds-rightsize": ("max_projected_cpu_percent", "memory_headroom_percent",
                                 "cpu_p95_percent", "cpu_p90_percent", "cpu_p99_percent")}


def _for_history(report: Report) -> dict[str, Any]:
    """What compare() reads of a report: its summary, when it was made and, of each finding,
    _HISTORY_KEYS (plus what verifying a right-sizing change needs)."""
    findings = []
    for finding in report.findings:
        row = {key: getattr(finding, key) for key in _HISTORY_KEYS}
        promised = _VERIFIABLE.get(finding.rule)
        if promised is not None:
            row.update(resource_type=finding.resource_type, current=finding.current,
                       recommended=finding.recommended,
                       evidence={key: finding.evidence[key] for key in promised
                                 if key in finding.evidence})
        findings.append(row)
    return {"summary": report.summary.to_plain(), "generated_at": report.generated_at,
            "findings": findings}


def previous_report(report_path: Path) -> Path | None:
    """The newest readable `<dir>/<YYYY-MM>/report.json` older than this report's month."""
    month_dir = Path(report_path).resolve().parent
    month = month_of(month_dir)
    if month is None:
        return None
    earlier = earlier_reports(month_dir.parent, month)
    return month_dir.parent / earlier[-1][0] / REPORT_FILE if earlier else None


def build_history(report: Report | Mapping[str, Any], out_dir: Path, *,
                  snapshot: Snapshot | None = None,
                  planted: list[tuple[str, Report]] | None = None,
                  suppressed: Suppressed | None = None) -> dict[str, Any] | None:
    """The comparison for a report that is (or will be) written to `out_dir` (a dict is
    validated into a Report first). With the run's `snapshot`, last month's applied changes
    are verified too (report.verify; `suppressed` says which resources the user silenced).
    `planted` (month, report), oldest first, stands in when no earlier report is on disk: the
    demo's last month.

    None when `out_dir` is not a `<YYYY-MM>` folder (e.g. `--output /tmp/x`) and nothing is
    planted: there is no series of months to compare with.
    """
    report = as_report(report)
    out_dir = Path(out_dir).resolve()
    month = month_of(out_dir)
    earlier = earlier_reports(out_dir.parent, month) if month is not None else []
    if not earlier and planted:
        month = month or report.window.end[:7]
        earlier = [(m, _for_history(r)) for m, r in planted if m < month]
    if month is None:
        return None
    return compare(report, month, earlier, snapshot, suppressed)


def compare(report: Report, month: str, earlier: list[tuple[str, dict[str, Any]]],
            snapshot: Snapshot | None = None,
            suppressed: Suppressed | None = None) -> dict[str, Any]:
    """New / persisting / resolved against the newest earlier report, plus the savings trend;
    with the snapshot, `verified` (the resolved right-sizing changes that were applied, held
    or regressed), `changes` (their counts) and `regressed_risks` (a risk row each regressed).

    `earlier` is oldest first, holds only months before `month`, each as earlier_reports
    cuts it down.
    """
    current = _for_history(report)
    now = _by_id(current)
    trend = [_trend_point(m, r) for m, r in earlier] + [_trend_point(month, current)]
    result: dict[str, Any] = {
        "month": month, "previous_month": None, "new": None, "persisting": None,
        "resolved": None, "realized_savings_usd": None, "resolved_findings": [],
        "findings": {}, "trend": trend,
    }
    if not earlier:
        return result
    previous_month, previous = earlier[-1]
    before = _by_id(previous)
    resolved = [finding for key, finding in before.items() if key not in now]
    # Each older month's ids once, newest first (not once per finding: that was quadratic).
    older_ids = [(older_month, set(_by_id(older))) for older_month, older in reversed(earlier[:-1])]
    statuses: dict[str, dict[str, str]] = {}
    for key in now:
        if key not in before:
            statuses[key] = {"status": "new", "since": month}
            continue
        # Walk back while the finding is present: "since" is where this streak began.
        since = previous_month
        for older_month, ids in older_ids:
            if key not in ids:
                break
            since = older_month
        statuses[key] = {"status": "persisting", "since": since}
    result.update(
        previous_month=previous_month,
        new=sum(1 for s in statuses.values() if s["status"] == "new"),
        persisting=sum(1 for s in statuses.values() if s["status"] == "persisting"),
        resolved=len(resolved),
        realized_savings_usd=round(_once_per_resource(resolved), 2),
        resolved_findings=[{key: f.get(key) for key in
                            ("id", "rule", "name", "resource_id", "account", "region",
                             "monthly_savings_usd")}
                           for f in sorted(resolved, key=lambda f: -_number(
                               f.get("monthly_savings_usd")))],
        findings=statuses,
    )
    if snapshot is not None:
        verified, risks = verify_changes(resolved, snapshot, previous_month,
                                         previous.get("generated_at"), suppressed)
        result.update(verified=verified, changes=changes_summary(verified),
                      regressed_risks=risks)
    return result


# What report.json's "history" holds of the comparison (history.json keeps all of it).
REPORT_HISTORY_KEYS = ("month", "previous_month", "new", "persisting", "resolved",
                       "realized_savings_usd", "verified", "changes")


def with_history(report: Report, history: dict[str, Any] | None) -> Report:
    """The report with its "history" (when an earlier month's report exists) and the
    regressed changes' risks added to its risks."""
    if not history or history.get("previous_month") is None:
        return report
    compact = {key: history[key] for key in REPORT_HISTORY_KEYS if key in history}
    regressed = built_risks(history.get("regressed_risks", []))
    return report.model_copy(update={"history": built_history(compact),
                                     "risks": [*report.risks, *regressed]})


def slack_counts(history: dict[str, Any] | None) -> dict[str, Any] | None:
    """The three numbers the Slack summary shows; None when there was no earlier month."""
    if not history or history.get("previous_month") is None:
        return None
    return {key: history[key] for key in ("new", "resolved", "realized_savings_usd")}


def _by_id(cut: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A cut-down report's findings by id (_for_history)."""
    return {f["id"]: f for f in cut["findings"] if f["id"]}


def _trend_point(month: str, cut: dict[str, Any]) -> dict[str, Any]:
    summary, findings = cut["summary"], cut["findings"]
    total = summary["monthly_savings_usd"]
    if not _is_number(total):  # null (not a number) in report.json: what its findings say
        total = _once_per_resource(findings)
    return {"month": month, "monthly_savings_usd": round(float(total), 2),
            "findings": summary["findings"]}


def _once_per_resource(findings: list[dict[str, Any]]) -> float:
    """Sum of savings counting each resource once at its largest finding, as the report's own
    total does (DESIGN: an idle database is also "unreserved"; deleting it is not paid twice)."""
    best: dict[tuple[str, str, str], float] = {}
    for finding in findings:
        key = (str(finding.get("account")), str(finding.get("region")),
               str(finding.get("resource_id") or finding.get("id")))
        best[key] = max(best.get(key, 0.0), _number(finding.get("monthly_savings_usd")))
    return sum(best.values())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0
