"""Verified changes: did last month's right-sizing advice hold once it was applied?

A resolved ecs-rightsize or rds-rightsize finding whose resource now runs the size it
recommended was applied. This month's peaks on that size are held against what the finding
promised (the headroom its rule sized with): under it, the change `held`; over it, it
`regressed`, and the report carries a high-severity risk naming the change, its date and the
way back (the size before, which ran without this pressure). A resource that is gone, runs
another size, or has too little data on the new size is not judged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rightsizer.rules import ecs_rightsize, rds_rightsize
from rightsizer.rules.findings import Finding, stable_finding_id
from rightsizer.rules.support.ecs_common import (
    ServiceView,
    ecs_services,
    revision_name,
    size_text,
    window_revision,
)
from rightsizer.rules.support.rds_common import RdsInstance, rds_instances
from rightsizer.snapshot.store import Snapshot

# Share of the window that must have datapoints on the new size to judge it (as the rules).
MIN_COVERAGE = 0.8
REGRESSED_KIND = "regressed-change"


@dataclass(frozen=True)
class Verdict:
    status: str  # "held" | "regressed"
    applied: str | None  # YYYY-MM-DD when the snapshot shows when, else None
    detail: str
    risk: dict[str, Any] | None = None  # the report.json risk row, for a regression
    tags: dict[str, str] = field(default_factory=dict)  # the resource's, for suppression


# (rule, resource id, name, tags) -> whether the user suppressed it ([suppress], the tag)
Suppressed = Callable[[str, str, str, dict[str, str]], bool]


def verify_changes(resolved: list[Mapping[str, Any]], snapshot: Snapshot,
                   previous_month: str, previous_generated_at: str | None,
                   suppressed: Suppressed | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(history.verified rows, regression risk rows) for last month's resolved findings; a
    resource the user suppressed for the finding's rule is not judged."""
    verified: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    since = _parse_time(previous_generated_at)
    for finding in resolved:
        check = _CHECKS.get(str(finding.get("rule")))
        if check is None:
            continue
        verdict = check(finding, snapshot, previous_month, since)
        if verdict is None or (suppressed is not None and suppressed(
                str(finding.get("rule")), str(finding.get("resource_id")),
                str(finding.get("name")), verdict.tags)):
            continue
        verified.append({
            "finding_id": finding.get("id"), "applied": verdict.applied,
            "status": verdict.status, "detail": verdict.detail,
            "rule": finding.get("rule"), "name": finding.get("name"),
            "resource_id": finding.get("resource_id"),
            "monthly_savings_usd": _number(finding.get("monthly_savings_usd")),
        })
        if verdict.risk is not None:
            risks.append(verdict.risk)
    return verified, risks


def changes_summary(verified: list[dict[str, Any]]) -> dict[str, Any]:
    """"N changes applied since last month: N held, N regressed, $X/month realized": realized
    is last month's promised saving of the changes that held."""
    held = [row for row in verified if row["status"] == "held"]
    return {"applied": len(verified), "held": len(held),
            "regressed": len(verified) - len(held),
            "realized_monthly_usd": round(sum(row["monthly_savings_usd"] for row in held), 2)}


# --- ECS -------------------------------------------------------------------------------------

def _services_by_arn(snapshot: Snapshot) -> dict[tuple[str, str, str], ServiceView]:
    return {(s.account, s.region, s.arn): s for s in ecs_services(snapshot)}


def _ecs_check(finding: Mapping[str, Any], snapshot: Snapshot, previous_month: str,
               since: datetime | None) -> Verdict | None:
    services = snapshot.derived("verify/services-by-arn", _services_by_arn)
    service = services.get((str(finding.get("account")), str(finding.get("region")),
                            str(finding.get("resource_id"))))
    recommended = _size(finding.get("recommended"), ("cpu", "memory"))
    before = _size(finding.get("current"), ("cpu", "memory"))
    if service is None or recommended is None or before is None:
        return None
    ran = window_revision(service, snapshot.window_start)
    if ran.skip is not None:
        return None  # the window mixes sizes (a rollout inside it): next month tells
    service = ran.service_as_ran(service)
    if (service.cpu_units, service.memory_mib) != recommended:
        return None  # not applied (or applied to another size)
    key = (service.account, service.region, service.metric_key)
    cpu = snapshot.series_stats(ecs_rightsize.ECS, "CPUUtilization", "Maximum").of(*key)
    mem = snapshot.series_stats(ecs_rightsize.ECS, "MemoryUtilization", "Maximum").of(*key)
    expected = snapshot.expected_datapoints
    if min(cpu.coverage(expected), mem.coverage(expected)) < MIN_COVERAGE:
        return None
    defaults = ecs_rightsize.Settings()
    evidence = _mapping(finding.get("evidence"))
    cpu_headroom = _number(evidence.get("peak_headroom_percent"),
                           defaults.peak_headroom_percent)
    mem_headroom = _number(evidence.get("headroom_percent"), defaults.headroom_percent)
    # the promise: the new size holds the peak with this much room on top
    cpu_limit = 100 / (1 + cpu_headroom / 100)
    mem_limit = 100 / (1 + mem_headroom / 100)
    applied = None
    if ran.deployment is not None and ran.deployment.created_at is not None and (
            since is None or ran.deployment.created_at >= since):
        applied = ran.deployment.created_at.date().isoformat()
    change = (f"{finding.get('rule')} {size_text(*before)} -> {size_text(*recommended)} "
              f"{_when(applied, previous_month)}")
    over = []
    if cpu.maximum > cpu_limit:
        over.append(f"CPU peak {cpu.maximum:.0f}% is over the {cpu_limit:.0f}% that "
                    f"{cpu_headroom:g}% headroom allows")
    if mem.maximum > mem_limit:
        over.append(f"memory peak {mem.maximum:.0f}% is over the {mem_limit:.0f}% that "
                    f"{mem_headroom:g}% headroom allows")
    if not over:
        return Verdict("held", applied, (
            f"{change}: CPU peak {cpu.maximum:.0f}% and memory peak {mem.maximum:.0f}% of the "
            f"new size stay within the promised {cpu_headroom:g}% CPU and {mem_headroom:g}% "
            "memory headroom"), tags=service.tags)
    detail = f"{change}: {' and '.join(over)}"
    revert = _finding_for_risk(
        finding, current={"cpu": recommended[0], "memory": recommended[1]},
        recommended={"cpu": before[0], "memory": before[1]},
        evidence={"cluster": service.cluster, "task_definition": service.task_definition,
                  "deployment_controller": service.controller,
                  "os_family": service.os_family or "LINUX",
                  "cpu_architecture": service.cpu_architecture or "X86_64",
                  "cpu_max_percent": round(cpu.maximum, 1),
                  "memory_max_percent": round(mem.maximum, 1),
                  "cpu_daily_max_percent": cpu.daily_peaks(),
                  "memory_daily_max_percent": mem.daily_peaks()})
    commands = ecs_rightsize.how_to_apply(revert)
    commands["cli"] = commands["cli"].replace(
        "# ecs-rightsize:", f"# revert the regressed ecs-rightsize change "
        f"({revision_name(service.task_definition)}):", 1)
    return Verdict("regressed", applied, detail,
                   _risk_row(finding, revert, applied, previous_month, detail, commands),
                   tags=service.tags)


# --- RDS -------------------------------------------------------------------------------------

def _instances_by_arn(snapshot: Snapshot) -> dict[tuple[str, str, str], RdsInstance]:
    return {(i.resource.account, i.resource.region, i.resource.resource_id): i
            for i in rds_instances(snapshot)}


def _rds_check(finding: Mapping[str, Any], snapshot: Snapshot, previous_month: str,
               since: datetime | None) -> Verdict | None:
    instances = snapshot.derived("verify/instances-by-arn", _instances_by_arn)
    inst = instances.get((str(finding.get("account")), str(finding.get("region")),
                          str(finding.get("resource_id"))))
    recommended = str(_mapping(finding.get("recommended")).get("instance_class") or "")
    before = str(_mapping(finding.get("current")).get("instance_class") or "")
    if inst is None or not recommended or inst.instance_class != recommended.lower() \
            or inst.not_running or recommended not in rds_rightsize.CLASS_SPECS:
        return None
    resource = inst.resource
    cpu = snapshot.one_series(resource.account, resource.region, rds_rightsize.RDS,
                              "CPUUtilization", resource.name, "Maximum")
    free = snapshot.one_series(resource.account, resource.region, rds_rightsize.RDS,
                               "FreeableMemory", resource.name, "Minimum")
    expected = snapshot.expected_datapoints
    if min(cpu.coverage(expected), free.coverage(expected)) < MIN_COVERAGE:
        return None
    defaults = rds_rightsize.Settings()
    evidence = _mapping(finding.get("evidence"))
    percent = _percentile_of(evidence, defaults.cpu_percentile)
    cpu_limit = _number(evidence.get("max_projected_cpu_percent"),
                        defaults.max_projected_cpu_percent)
    mem_headroom = _number(evidence.get("memory_headroom_percent"),
                           defaults.memory_headroom_percent)
    _, memory_gib = rds_rightsize.CLASS_SPECS[recommended]
    in_use_gib = max(0.0, memory_gib - free.minimum / rds_rightsize.GIB)
    cpu_now = cpu.percentile(percent)
    change = f"{finding.get('rule')} {before} -> {recommended} {_when(None, previous_month)}"
    over = []
    if cpu_now >= cpu_limit:
        over.append(f"CPU p{percent:g} {cpu_now:.0f}% reached the {cpu_limit:g}% it was "
                    "promised to stay under")
    if in_use_gib * (1 + mem_headroom / 100) > memory_gib:
        over.append(f"memory in use {in_use_gib:.2f} GiB +{mem_headroom:g}% no longer fits "
                    f"{memory_gib:g} GiB")
    if not over:
        return Verdict("held", None, (
            f"{change}: CPU p{percent:g} {cpu_now:.0f}% (under {cpu_limit:g}%) and "
            f"{in_use_gib:.2f} GiB in use +{mem_headroom:g}% fit {recommended}"),
            tags=resource.tags)
    detail = f"{change}: {' and '.join(over)}"
    multi_az = inst.multi_az
    revert = _finding_for_risk(
        finding, current={"instance_class": recommended, "multi_az": multi_az},
        recommended={"instance_class": before, "multi_az": multi_az},
        evidence={f"cpu_p{percent:g}_percent": round(cpu_now, 1),
                  "memory_in_use_gib": round(in_use_gib, 3)})
    commands = rds_rightsize.how_to_apply(revert)
    return Verdict("regressed", None, detail,
                   _risk_row(finding, revert, None, previous_month, detail, commands),
                   tags=resource.tags)


_CHECKS: dict[str, Callable[[Mapping[str, Any], Snapshot, str, datetime | None],
                            Verdict | None]] = {
    ecs_rightsize.RULE_ID: _ecs_check,
    rds_rightsize.RULE_ID: _rds_check,
}


# --- shared ----------------------------------------------------------------------------------

def _finding_for_risk(finding: Mapping[str, Any], *, current: dict[str, Any],
                      recommended: dict[str, Any], evidence: dict[str, Any]) -> Finding:
    saving = _number(finding.get("monthly_savings_usd"))
    return Finding(rule=str(finding.get("rule")), resource_type=str(
        finding.get("resource_type") or ("ecs-service" if "cpu" in current
                                         else "rds-instance")),
        resource_id=str(finding.get("resource_id")), name=str(finding.get("name")),
        account=str(finding.get("account")), region=str(finding.get("region")),
        current=current, recommended=recommended, monthly_cost_usd=0.0,
        monthly_savings_usd=-saving, evidence=evidence, reason="", severity="high")


def _risk_row(finding: Mapping[str, Any], revert: Finding, applied: str | None,
              previous_month: str, detail: str, commands: dict[str, str]) -> dict[str, Any]:
    """A high-severity risk naming the change and its date; the way back is the size before,
    at what the change saved (an estimate from last month's report)."""
    return {
        "id": stable_finding_id(f"{revert.rule}/{REGRESSED_KIND}", revert.account,
                                revert.region, revert.resource_id),
        "rule": revert.rule, "kind": REGRESSED_KIND, "severity": "high",
        "resource_type": revert.resource_type, "resource_id": revert.resource_id,
        "name": revert.name, "account": revert.account, "region": revert.region,
        "current": revert.current, "recommended": revert.recommended,
        "monthly_cost_change_usd": round(_number(finding.get("monthly_savings_usd")), 2),
        "evidence": {**revert.evidence, "change": {
            "finding_id": finding.get("id"), "applied": applied,
            "previous_month": previous_month, "from": revert.recommended,
            "to": revert.current}},
        "reason": (f"Regressed: {detail}. Going back to the size before costs about what the "
                   f"change saved (last month's figure)"),
        "how_to_apply": {key: str(commands.get(key) or "") for key in ("cli", "terraform",
                                                                       "cdk")},
    }


def _when(applied: str | None, previous_month: str) -> str:
    return f"(applied {applied})" if applied else f"(applied after the {previous_month} report)"


def _size(value: object, keys: tuple[str, str]) -> tuple[int, int] | None:
    mapping = _mapping(value)
    try:
        return int(mapping[keys[0]]), int(mapping[keys[1]])
    except (KeyError, TypeError, ValueError):
        return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


_PERCENTILE_KEY = re.compile(r"cpu_p(\d+(?:\.\d+)?)_percent")


def _percentile_of(evidence: Mapping[str, Any], default: float) -> float:
    """The CPU percentile the finding was sized on (its evidence key cpu_p<N>_percent)."""
    for key in evidence:
        match = _PERCENTILE_KEY.fullmatch(str(key))
        if match:
            return float(match.group(1))
    return default


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value: Any, default: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default
