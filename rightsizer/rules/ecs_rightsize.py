"""ecs-rightsize: Fargate tasks that consistently use under half of their CPU or memory."""

from __future__ import annotations

from pydantic import Field

from rightsizer import pricing
from rightsizer.fargate_sizes import cheapest_valid_size
from rightsizer.findings import Finding, finding_for, skipped_for
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.ecs_common import ServiceView, ecs_services
from rightsizer.rules.series import coverage, daily_peaks, percentile, rounded
from rightsizer.snapshot import Snapshot

RULE_ID = "ecs-rightsize"
ECS = "AWS/ECS"


class Settings(RuleSettings):
    threshold_percent: float = Field(
        50, gt=0, le=100,
        description="Flag a service whose CPU need or memory peak stays under this share of "
        "its task size.",
    )
    percentile: float = Field(
        95, gt=0, le=100, description="CPU need = this percentile of the hourly Maximum series."
    )
    headroom_percent: float = Field(
        20, ge=0, le=200, description="Margin added on top of the need before picking a size."
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the lookback window that must have datapoints to judge.",
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for service in ecs_services(snapshot):
        outcome = _judge(snapshot, settings, service)
        if outcome is None:
            continue
        if isinstance(outcome, Finding):
            result.findings.append(outcome)
        else:
            result.skipped.append(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, service: ServiceView):
    resource = service.resource
    if not service.on_fargate:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           "runs on EC2 capacity: Fargate task sizes do not apply")
    if not service.cpu_units or not service.memory_mib:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           "task definition has no task-level CPU/memory")
    if service.task_count <= 0:
        return skipped_for(resource, RULE_ID, "not-applicable", "scaled to zero tasks")

    hourly = service.hourly_usd

    current_hourly = hourly(service.cpu_units, service.memory_mib)
    if current_hourly is None:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"no Fargate price for region {service.region}")

    def stat(metric: str, name: str):
        return snapshot.series(service.account, service.region, ECS, metric, service.metric_key,
                               name)

    cpu_max, mem_max = stat("CPUUtilization", "Maximum"), stat("MemoryUtilization", "Maximum")
    expected = snapshot.expected_datapoints
    window_coverage = min(coverage(cpu_max, expected), coverage(mem_max, expected))
    datapoints = min(len(cpu_max), len(mem_max))
    if window_coverage < settings.min_coverage:
        return skipped_for(
            resource, RULE_ID, "insufficient-data",
            f"{datapoints} of {expected} hourly datapoints ({window_coverage:.0%}); "
            f"needs {settings.min_coverage:.0%} of the window",
        )

    cpu_need_pct = percentile(cpu_max, settings.percentile)
    cpu_peak_pct = float(cpu_max.max())
    mem_peak_pct = float(mem_max.max())
    if cpu_need_pct >= settings.threshold_percent and mem_peak_pct >= settings.threshold_percent:
        return None  # well used: nothing to say

    headroom = 1 + settings.headroom_percent / 100
    # Never below last window's peak: CPU throttles and memory OOM-kills above the task size.
    cpu_needed_units = max(cpu_need_pct * headroom, cpu_peak_pct) / 100 * service.cpu_units
    memory_needed_mib = mem_peak_pct * headroom / 100 * service.memory_mib
    best = cheapest_valid_size(
        cpu_needed_units, memory_needed_mib, lambda c, m: hourly(c, m) or float("inf")
    )
    if best is None:
        return None
    new_cpu, new_memory = best
    new_hourly = hourly(new_cpu, new_memory)
    if new_hourly is None or new_hourly >= current_hourly:
        return None  # already the cheapest size that fits

    hours = pricing.HOURS_PER_MONTH * service.task_count
    pct_label = f"p{settings.percentile:g}"
    rates = pricing.fargate_rates(service.region)
    evidence = {
        f"cpu_{pct_label}_percent": rounded(cpu_need_pct),
        "cpu_max_percent": rounded(cpu_peak_pct),
        "cpu_avg_percent": rounded(stat("CPUUtilization", "Average").mean()),
        "memory_max_percent": rounded(mem_peak_pct),
        "memory_avg_percent": rounded(stat("MemoryUtilization", "Average").mean()),
        "coverage": round(window_coverage, 3),
        "datapoints": datapoints,
        "period_seconds": snapshot.period_seconds,
        "threshold_percent": settings.threshold_percent,
        "headroom_percent": settings.headroom_percent,
        "cpu_needed_units": round(cpu_needed_units),
        "memory_needed_mib": round(memory_needed_mib),
        "task_count": service.task_count,
        "recommended_cpu_percent_of_current": rounded(100 * new_cpu / service.cpu_units),
        "recommended_memory_percent_of_current": rounded(100 * new_memory / service.memory_mib),
        "hourly_cost_current_usd": round(current_hourly, 5),
        "hourly_cost_recommended_usd": round(new_hourly, 5),
        "cpu_daily_max_percent": daily_peaks(cpu_max),
        "memory_daily_max_percent": daily_peaks(mem_max),
    }
    if rates:
        evidence["price_vcpu_hour_usd"] = rates[0].usd
        evidence["price_gb_hour_usd"] = rates[1].usd
    days = snapshot.manifest["window"]["days"]
    reason = (
        f"CPU {pct_label} {cpu_need_pct:.0f}% (peak {cpu_peak_pct:.0f}%) and memory peak "
        f"{mem_peak_pct:.0f}% of {_size(service.cpu_units, service.memory_mib)} over {days} days; "
        f"{_size(new_cpu, new_memory)} still covers the peak with "
        f"{settings.headroom_percent:g}% headroom"
    )
    return finding_for(
        resource, RULE_ID,
        current={"cpu": service.cpu_units, "memory": service.memory_mib},
        recommended={"cpu": new_cpu, "memory": new_memory},
        monthly_cost_usd=current_hourly * hours,
        monthly_savings_usd=(current_hourly - new_hourly) * hours,
        evidence=evidence,
        reason=reason,
    )


def _size(cpu_units: int, memory_mib: int) -> str:
    return f"{cpu_units / 1024:g} vCPU / {memory_mib / 1024:g} GB"


def how_to_apply(finding: Finding) -> dict[str, str]:
    cpu, memory = finding.recommended["cpu"], finding.recommended["memory"]
    cluster = finding.resource_id.rsplit("/", 2)[-2] if "/" in finding.resource_id else "CLUSTER"
    return {
        "cli": (
            "# register a new revision of the task definition with the smaller size, then:\n"
            f"aws ecs register-task-definition --cli-input-json file://taskdef.json  "
            f"# with \"cpu\": \"{cpu}\", \"memory\": \"{memory}\"\n"
            f"aws ecs update-service --cluster {cluster} --service {finding.name} "
            f"--task-definition <family>:<new revision> --region {finding.region}"
        ),
        "iac": (
            f"# Terraform aws_ecs_task_definition\ncpu    = \"{cpu}\"\nmemory = \"{memory}\"\n"
            f"# CDK FargateTaskDefinition\ncpu: {cpu}, memoryLimitMiB: {memory}"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Right-size over-provisioned Fargate tasks",
    why=(
        "Fargate bills the task size, not what the task uses. A service whose hourly peaks stay "
        "well under its CPU and memory pays for idle capacity every hour. The recommendation is "
        "the cheapest valid Fargate size that still holds last window's peak plus headroom, so "
        "it would not have throttled or run out of memory."
    ),
    resource_type="ecs-service",
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("ecs-service", ECS, "CPUUtilization"),
        MetricNeed("ecs-service", ECS, "MemoryUtilization"),
    ),
)
