"""ecs-rightsize: Fargate tasks that consistently use under half of their CPU or memory."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field

from rightsizer import pricing, year_ago
from rightsizer.fargate_sizes import PricedSize, first_fitting, sizes_by_cost
from rightsizer.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.ecs_common import ScalingView, ServiceView, ecs_services, scaling_for
from rightsizer.rules.series import percentile, rounded
from rightsizer.series_stats import OneSeries
from rightsizer.snapshot import Snapshot
from rightsizer.year_ago import SeasonalPeak

RULE_ID = "ecs-rightsize"
ECS = "AWS/ECS"
# Tuned on the accuracy benchmark (docs/accuracy.md): see the why there.
PEAK_HEADROOM_DEFAULT = 10.0
TREND_HORIZON_DEFAULT = 30.0
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
# Without a task count, "busy hours" are the top tenth of hours by CPU Maximum.
BUSY_HOURS_PERCENTILE = 90


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
    peak_headroom_percent: float = Field(
        PEAK_HEADROOM_DEFAULT, ge=0, le=200,
        description="Margin on top of the observed (trend-projected) CPU peak: next month's "
        "peak is rarely exactly this month's.",
    )
    trend_horizon_days: float = Field(
        TREND_HORIZON_DEFAULT, ge=0, le=365,
        description="Project a rising trend of daily peaks this many days ahead (0 = off).",
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the lookback window that must have datapoints to judge.",
    )
    year_ago: bool = Field(
        True,
        description="Also read the daily peaks of the same weeks a year ago and the "
        f"{year_ago.AHEAD_DAYS} days after them (two more series per service), and keep last "
        "year's seasonal peak, scaled to today's load: an exam season or a yearly sales peak "
        "that the lookback window cannot see.",
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    cpu = snapshot.series_stats(ECS, "CPUUtilization", "Maximum")
    memory = snapshot.series_stats(ECS, "MemoryUtilization", "Maximum")
    then = year_ago.stored_stat("Maximum")
    cpu_then = snapshot.series_stats(ECS, "CPUUtilization", then)
    memory_then = snapshot.series_stats(ECS, "MemoryUtilization", then)
    for service in ecs_services(snapshot):
        key = (service.account, service.region, service.metric_key)
        outcome = _judge(snapshot, settings, service, cpu.of(*key), memory.of(*key),
                         (cpu_then.of(*key), memory_then.of(*key)))
        if outcome is None:
            continue
        if isinstance(outcome, Finding):
            result.findings.append(outcome)
        else:
            result.skipped.append(outcome)
    return result


def _price_lookup(snapshot: Snapshot, service: ServiceView, by_cost: tuple[PricedSize, ...]
                  ) -> Callable[[int, int], float | None]:
    """service.hourly_usd, answered from the region's priced sizes (the same figures) when the
    size is a valid Fargate pair: ~20,000 services ask for theirs."""
    prices = snapshot.derived(
        f"fargate-hourly/{service.region}/{service.spot_share}",
        lambda _: {(cpu, memory): cost for cost, cpu, memory in by_cost})

    def hourly(cpu: int, memory: int) -> float | None:
        cost = prices.get((cpu, memory))
        if cost is None:
            return service.hourly_usd(cpu, memory)
        return None if math.isinf(cost) else cost
    return hourly


@dataclass(frozen=True)
class _Scaled:
    """What target tracking changes about the sizing (see _scaling_facts)."""

    view: ScalingView
    tasks_for_cost: int
    busy_basis: str  # "running-task-count" | "peak-hours"
    busy_hours: int
    busiest_task_count: int | None
    busy_cpu_percent: float
    busy_memory_percent: float

    window_cpu_peak_percent: float
    window_memory_peak_percent: float

    @property
    def per_task_cpu_percent(self) -> float:
        return max(self.busy_cpu_percent, self.window_cpu_peak_percent)

    @property
    def per_task_memory_percent(self) -> float:
        return max(self.busy_memory_percent, self.window_memory_peak_percent)

    @property
    def stayed_at_min(self) -> bool:
        return self.busiest_task_count is not None and \
            self.busiest_task_count <= self.view.min_capacity


def _judge(snapshot: Snapshot, settings: Settings, service: ServiceView, cpu: OneSeries,
           mem: OneSeries, then: tuple[OneSeries, OneSeries]) -> Finding | Skipped | None:
    resource = service.resource
    if not service.on_fargate:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           "runs on EC2 capacity: Fargate task sizes do not apply")
    if not service.cpu_units or not service.memory_mib:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           "task definition has no task-level CPU/memory")
    if service.task_count <= 0:
        return skipped_for(resource, RULE_ID, "not-applicable", "scaled to zero tasks")

    by_cost = snapshot.derived(
        f"fargate-sizes-by-cost/{service.region}/{service.spot_share}",
        lambda _: sizes_by_cost(lambda c, m: service.hourly_usd(c, m) or float("inf")))
    hourly = _price_lookup(snapshot, service, by_cost)

    current_hourly = hourly(service.cpu_units, service.memory_mib)
    if current_hourly is None:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"no Fargate price for region {service.region}")

    expected = snapshot.expected_datapoints
    window_coverage = min(cpu.coverage(expected), mem.coverage(expected))
    datapoints = min(cpu.rows, mem.rows)
    if window_coverage < settings.min_coverage:
        return skipped_for(
            resource, RULE_ID, "insufficient-data",
            f"{datapoints} of {expected} hourly datapoints ({window_coverage:.0%}); "
            f"needs {settings.min_coverage:.0%} of the window",
        )

    cpu_need_pct = cpu.percentile(settings.percentile)
    cpu_peak_pct = cpu.maximum
    mem_peak_pct = mem.maximum
    if cpu_need_pct >= settings.threshold_percent and mem_peak_pct >= settings.threshold_percent:
        return None  # well used: nothing to say

    # Growth: a recommendation lives until the next monthly run, so a steady climb of the
    # daily peaks is projected that far ahead (never downwards: a falling trend may reverse).
    cpu_trend = cpu.figure(cpu.stats.daily_peak_trend)
    mem_trend = mem.figure(mem.stats.daily_peak_trend)
    horizon = settings.trend_horizon_days
    cpu_projected_pct = min(100.0, cpu_peak_pct + max(0.0, cpu_trend) * horizon)
    mem_projected_pct = min(100.0, mem_peak_pct + max(0.0, mem_trend) * horizon)

    # A season the window cannot see (exams, a yearly peak): last year's seasonal peak at
    # today's level, where it is above this window's peak, is sized for with the full headroom
    # rather than the peak headroom: it is a projection from another year, not an observation.
    seasons = _seasons(snapshot, cpu, mem, then) if settings.year_ago else {}
    window_peaks = {"CPU": cpu_peak_pct, "memory": mem_peak_pct}
    seasonal = {name: season for name, season in seasons.items()
                if season.projected_percent > window_peaks[name]}
    cpu_season_pct = seasonal["CPU"].projected_percent if "CPU" in seasonal else 0.0
    mem_season_pct = seasonal["memory"].projected_percent if "memory" in seasonal else 0.0

    headroom = 1 + settings.headroom_percent / 100
    peak_headroom = 1 + settings.peak_headroom_percent / 100
    # Never below the observed peak: CPU throttles and memory OOM-kills above the task size.
    cpu_needed_units = max(cpu_need_pct * headroom, cpu_projected_pct * peak_headroom,
                           cpu_season_pct * headroom) / 100 * service.cpu_units
    memory_needed_mib = max(mem_projected_pct, mem_season_pct) * headroom / 100 * \
        service.memory_mib

    # Headroom protects a downsize; it never asks for more than the task has today (this rule
    # does not upsize). So a dimension already near its limit keeps today's size while the
    # other may still shrink: a CPU-idle task at 88% memory keeps its memory, sheds vCPUs.
    cpu_needed_units = min(cpu_needed_units, max(service.cpu_units,
                                                 cpu_peak_pct / 100 * service.cpu_units))
    memory_needed_mib = min(memory_needed_mib, max(service.memory_mib,
                                                   mem_peak_pct / 100 * service.memory_mib))

    scaled = _scaling_facts(snapshot, service)
    if scaled is not None:
        # AWS/ECS utilization is the average across the service's tasks: what one task
        # needs. Shrinking the task raises that share; above the scaling target, autoscaling
        # adds tasks and eats the saving (or, at max capacity, cannot). So the new size keeps
        # the per-task need (the busiest hours', or the window peak if higher: a scale-out
        # lags) at or under each target, and autoscaling runs the same task counts as today.
        cpu_target, mem_target = scaled.view.cpu_target_percent, scaled.view.memory_target_percent
        if cpu_target:
            cpu_needed_units = max(cpu_needed_units,
                                   scaled.per_task_cpu_percent / cpu_target * service.cpu_units)
        if mem_target:
            memory_needed_mib = max(
                memory_needed_mib,
                scaled.per_task_memory_percent / mem_target * service.memory_mib)

    best = first_fitting(by_cost, cpu_needed_units, memory_needed_mib)
    if best is None:
        return None
    new_cpu, new_memory = best
    new_hourly = hourly(new_cpu, new_memory)
    if new_hourly is None or new_hourly >= current_hourly:
        return None  # already the cheapest size that fits

    task_count = scaled.tasks_for_cost if scaled else service.task_count
    hours = pricing.HOURS_PER_MONTH * task_count
    pct_label = f"p{settings.percentile:g}"
    rates = pricing.fargate_rates(service.region)
    evidence = {
        f"cpu_{pct_label}_percent": rounded(cpu_need_pct),
        "cpu_max_percent": rounded(cpu_peak_pct),
        # medians of the hourly peaks: the typical hour, from the series already fetched
        # (an Average series would be billed again for a figure no decision uses)
        "cpu_median_hourly_peak_percent": rounded(cpu.median),
        "memory_max_percent": rounded(mem_peak_pct),
        "memory_median_hourly_peak_percent": rounded(mem.median),
        "coverage": round(window_coverage, 3),
        "datapoints": datapoints,
        "period_seconds": snapshot.period_seconds,
        "threshold_percent": settings.threshold_percent,
        "headroom_percent": settings.headroom_percent,
        "peak_headroom_percent": settings.peak_headroom_percent,
        "trend_horizon_days": horizon,
        "cpu_daily_peak_trend_percent_per_day": round(cpu_trend, 3),
        "memory_daily_peak_trend_percent_per_day": round(mem_trend, 3),
        "cpu_projected_peak_percent": rounded(cpu_projected_pct),
        "memory_projected_peak_percent": rounded(mem_projected_pct),
        "cpu_needed_units": round(cpu_needed_units),
        "memory_needed_mib": round(memory_needed_mib),
        "task_count": task_count,
        "recommended_cpu_percent_of_current": rounded(100 * new_cpu / service.cpu_units),
        "recommended_memory_percent_of_current": rounded(100 * new_memory / service.memory_mib),
        "hourly_cost_current_usd": round(current_hourly, 5),
        "hourly_cost_recommended_usd": round(new_hourly, 5),
        "cpu_daily_max_percent": cpu.daily_peaks(),
        "memory_daily_max_percent": mem.daily_peaks(),
    }
    evidence.update(_year_ago_evidence(settings, seasons))
    if rates:
        evidence["price_vcpu_hour_usd"] = rates[0].usd
        evidence["price_gb_hour_usd"] = rates[1].usd
    days = snapshot.manifest["window"]["days"]
    reason = (
        f"CPU {pct_label} {cpu_need_pct:.0f}% (peak {cpu_peak_pct:.0f}%) and memory peak "
        f"{mem_peak_pct:.0f}% of {_size(service.cpu_units, service.memory_mib)} over {days} days; "
        f"{_size(new_cpu, new_memory)} still covers the peak with "
        f"{settings.peak_headroom_percent:g}% CPU and {settings.headroom_percent:g}% memory "
        f"headroom"
    )
    if cpu_trend > 0 or mem_trend > 0:
        reason += (f" (peaks projected {horizon:g} days ahead on their daily trend: CPU "
                   f"{cpu_projected_pct:.0f}%, memory {mem_projected_pct:.0f}%)")
    # the sentence names a season only where it stands out beyond the peak headroom (evidence
    # holds every figure)
    reason += _year_ago_reason({
        name: season for name, season in seasonal.items()
        if season.projected_percent > peak_headroom * window_peaks[name]})
    if scaled is not None:
        evidence.update(_scaling_evidence(scaled, service, new_cpu, new_memory, current_hourly,
                                          new_hourly))
        reason += "; " + _scaling_reason(scaled, service, new_cpu, new_memory, current_hourly,
                                         evidence)
    return finding_for(
        resource, RULE_ID,
        current={"cpu": service.cpu_units, "memory": service.memory_mib},
        recommended={"cpu": new_cpu, "memory": new_memory},
        monthly_cost_usd=current_hourly * hours,
        monthly_savings_usd=(current_hourly - new_hourly) * hours,
        evidence=evidence,
        reason=reason,
    )


# --- a year ago -------------------------------------------------------------------------------

def _seasons(snapshot: Snapshot, cpu: OneSeries, mem: OneSeries,
             then: tuple[OneSeries, OneSeries]) -> dict[str, SeasonalPeak]:
    """Last year's seasonal rise by dimension ("CPU", "memory"), where a year ago was read."""
    found: dict[str, SeasonalPeak] = {}
    for name, now, past in (("CPU", cpu, then[0]), ("memory", mem, then[1])):
        if past.at is None or now.at is None:
            continue
        stamps, values = past.stats.points(past.at)
        peak = year_ago.seasonal_peak(stamps, values, snapshot.window_start,
                                      snapshot.window_end, now.stats.daily_peaks(now.at)[1])
        if peak is not None:
            found[name] = peak
    return found


def _year_ago_evidence(settings: Settings, seasons: dict[str, SeasonalPeak]
                       ) -> dict[str, object]:
    if not settings.year_ago:
        return {"year_ago": "off"}
    if not seasons:
        # said, not hidden: without last year a coming season cannot be seen
        return {"year_ago": "no datapoints a year ago (service younger than a year, or no data)"}
    evidence: dict[str, object] = {"year_ago": "compared",
                                   "year_ago_ahead_days": year_ago.AHEAD_DAYS}
    for name, season in seasons.items():
        key = name.lower()
        evidence[f"{key}_year_ago_peak_percent"] = rounded(season.peak_then_percent)
        evidence[f"{key}_year_ago_median_daily_peak_percent"] = rounded(
            season.typical_then_percent)
        evidence[f"{key}_year_ago_rise"] = round(season.rise, 3)
        evidence[f"{key}_median_daily_peak_percent"] = rounded(season.typical_now_percent)
        evidence[f"{key}_seasonal_peak_percent"] = rounded(season.projected_percent)
    return evidence


def _year_ago_reason(seasonal: dict[str, SeasonalPeak]) -> str:
    """A sentence only when last year's season raised the peak sized for."""
    if not seasonal:
        return ""
    parts = [f"{name} peaked at {season.rise:.1f}x a typical day ({season.peak_then_percent:.0f}"
             f"% vs {season.typical_then_percent:.0f}%), {season.projected_percent:.0f}% at "
             f"today's level" for name, season in seasonal.items()]
    return (f"; sized for last year's season (the same weeks and the next "
            f"{year_ago.AHEAD_DAYS} days): " + "; ".join(parts))


# --- autoscaling ------------------------------------------------------------------------------

def _scaling_facts(snapshot: Snapshot, service: ServiceView) -> _Scaled | None:
    view = scaling_for(snapshot, service)
    if view is None:
        return None
    # few services scale: their busy hours are read from the series themselves
    cpu_max, mem_max = (snapshot.series(service.account, service.region, ECS, metric,
                                        service.metric_key, "Maximum")
                        for metric in ("CPUUtilization", "MemoryUtilization"))
    # The service never runs fewer than min_capacity tasks: that is the count a per-task saving
    # is sure to apply to (more tasks at busy hours only add to it).
    tasks_for_cost = view.min_capacity if view.min_capacity > 0 else service.task_count
    running = snapshot.series(service.account, service.region, CONTAINER_INSIGHTS,
                              "RunningTaskCount", service.metric_key, "Maximum")
    busiest: int | None = None
    if not running.empty:
        busiest = int(running.max())
        busy_times = running.index[running >= busiest]
        basis = "running-task-count"
    else:
        busy_times = cpu_max.index[cpu_max >= percentile(cpu_max, BUSY_HOURS_PERCENTILE)]
        basis = "peak-hours"
    busy_cpu = cpu_max.reindex(busy_times).dropna()
    busy_mem = mem_max.reindex(busy_times).dropna()
    if busy_cpu.empty:  # task counts and utilization do not line up: judge on the whole window
        busy_cpu, busy_mem, basis = cpu_max, mem_max, "whole-window"
    return _Scaled(
        view=view, tasks_for_cost=tasks_for_cost, busy_basis=basis, busy_hours=len(busy_cpu),
        busiest_task_count=busiest,
        busy_cpu_percent=float(busy_cpu.max()),
        busy_memory_percent=float(busy_mem.max()) if not busy_mem.empty else float(
            mem_max.max()),
        window_cpu_peak_percent=float(cpu_max.max()),
        window_memory_peak_percent=float(mem_max.max()),
    )


def _min_capacity_alternative(scaled: _Scaled, service: ServiceView) -> int | None:
    """Fewer always-on tasks of today's size that would hold the load under the targets; only
    when the service never scaled out (so its load is min_capacity x the per-task peak)."""
    view = scaled.view
    if not scaled.stayed_at_min or view.min_capacity <= 1:
        return None
    needed = 1
    for peak, target in ((scaled.per_task_cpu_percent, view.cpu_target_percent),
                         (scaled.per_task_memory_percent, view.memory_target_percent)):
        if target:
            needed = max(needed, math.ceil(view.min_capacity * peak / target))
    return needed if needed < view.min_capacity else None


def _scaling_evidence(scaled: _Scaled, service: ServiceView, new_cpu: int, new_memory: int,
                      current_hourly: float, new_hourly: float) -> dict[str, object]:
    view = scaled.view
    evidence: dict[str, object] = {
        "autoscaling_min_capacity": view.min_capacity,
        "autoscaling_max_capacity": view.max_capacity,
        "autoscaling_policies": view.describe_policies(),
        "autoscaling_cpu_target_percent": view.cpu_target_percent,
        "autoscaling_memory_target_percent": view.memory_target_percent,
        "desired_count": service.desired_count,
        "busy_hours_basis": scaled.busy_basis,
        "busy_hours": scaled.busy_hours,
        "busiest_task_count": scaled.busiest_task_count,
        "busy_cpu_max_percent": rounded(scaled.busy_cpu_percent),
        "busy_memory_max_percent": rounded(scaled.busy_memory_percent),
        "per_task_cpu_need_percent": rounded(scaled.per_task_cpu_percent),
        "per_task_memory_need_percent": rounded(scaled.per_task_memory_percent),
        # the per-task need as a share of the recommended size: what the target will see
        "per_task_cpu_percent_on_recommended": rounded(
            scaled.per_task_cpu_percent * service.cpu_units / new_cpu),
        "per_task_memory_percent_on_recommended": rounded(
            scaled.per_task_memory_percent * service.memory_mib / new_memory),
        "monthly_savings_at_max_capacity_usd": round(
            (current_hourly - new_hourly) * pricing.HOURS_PER_MONTH * view.max_capacity, 2),
    }
    fewer = _min_capacity_alternative(scaled, service)
    if fewer is not None:
        evidence["min_capacity_alternative"] = fewer
        evidence["min_capacity_alternative_monthly_savings_usd"] = round(
            (view.min_capacity - fewer) * current_hourly * pricing.HOURS_PER_MONTH, 2)
    return evidence


def _scaling_reason(scaled: _Scaled, service: ServiceView, new_cpu: int, new_memory: int,
                    current_hourly: float, evidence: dict[str, object]) -> str:
    view = scaled.view
    targets = [f"{name} {value:g}%" for name, value in (
        ("CPU", view.cpu_target_percent), ("memory", view.memory_target_percent)) if value]
    where = (f"at the busiest hours ({scaled.busiest_task_count} tasks)"
             if scaled.busiest_task_count is not None else "at the peak hours")
    text = (f"autoscaling min {view.min_capacity} / max {view.max_capacity}"
            + (f", target {' and '.join(targets)}" if targets else ", no target-tracking "
               "policy on CPU or memory"))
    text += (f": {where} a task used up to {scaled.busy_cpu_percent:.0f}% CPU and "
             f"{scaled.busy_memory_percent:.0f}% memory (window peak "
             f"{scaled.window_cpu_peak_percent:.0f}% / {scaled.window_memory_peak_percent:.0f}%); "
             f"on {_size(new_cpu, new_memory)} that is at most "
             f"{evidence['per_task_cpu_percent_on_recommended']:.0f}% CPU and "
             f"{evidence['per_task_memory_percent_on_recommended']:.0f}% memory")
    if targets:
        text += (", under the target, so autoscaling runs the same task counts as today "
                 "instead of adding tasks to make up for a smaller one")
    text += f"; saving counted for the {scaled.tasks_for_cost} tasks it always runs (min capacity)"
    fewer = evidence.get("min_capacity_alternative")
    if fewer is not None:
        text += (f". Alternatively, lowering min capacity from {view.min_capacity} to {fewer} "
                 f"at today's size saves "
                 f"${evidence['min_capacity_alternative_monthly_savings_usd']:.2f}/month "
                 f"(keep 2 if min capacity is there for availability across zones)")
    return text


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
        MetricNeed("ecs-service", ECS, "CPUUtilization", ("Maximum",)),
        MetricNeed("ecs-service", ECS, "MemoryUtilization", ("Maximum",)),
        MetricNeed("ecs-service", ECS, "CPUUtilization", ("Maximum",), year_ago=True,
                   setting="year_ago"),
        MetricNeed("ecs-service", ECS, "MemoryUtilization", ("Maximum",), year_ago=True,
                   setting="year_ago"),
        # task count per hour, where Container Insights publishes it: the busy hours
        MetricNeed("ecs-service-insights", CONTAINER_INSIGHTS, "RunningTaskCount",
                   ("Maximum",)),
    ),
)
