"""ecs-rightsize: Fargate tasks that consistently use under half of their CPU or memory."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.support import backtest, ecs_sizing, sizing_history, year_ago
from rightsizer.rules.support.backtest import Usage
from rightsizer.rules.support.ecs_common import (
    DeploymentView,
    ScalingView,
    ServiceView,
    WindowRevision,
    ecs_services,
    no_price_detail,
    revision_name,
    revision_number,
    scaling_for,
    size_text,
    size_that_ran,
)
from rightsizer.rules.support.ecs_sizing import MIN_FORTNIGHTS, Margins, YearAgo
from rightsizer.rules.support.fargate_sizes import PricedSize, first_fitting, sizes_by_cost
from rightsizer.rules.support.series import percentile, rounded
from rightsizer.rules.support.year_ago import SeasonalPeak
from rightsizer.snapshot.series import OneSeries
from rightsizer.snapshot.store import Snapshot

RULE_ID = "ecs-rightsize"
ECS = "AWS/ECS"
# Tuned on the accuracy benchmark (docs/accuracy.md): see the why there.
PEAK_HEADROOM_DEFAULT = 10.0
MIN_MARGIN_DEFAULT = 10.0
MAX_MARGIN_DEFAULT = 50.0
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
    backtest: bool = Field(
        True,
        description="Choose each service's CPU and memory margins by replaying the sizing on "
        "its own history (at each past week, size from the data before it and check the "
        "fortnight after): the smallest margins that held in every past fortnight. False, or "
        f"under {MIN_FORTNIGHTS} past fortnights of history: the fixed peak_headroom_percent "
        "(CPU) and headroom_percent (memory).",
    )
    min_margin_percent: float = Field(
        MIN_MARGIN_DEFAULT, ge=0, le=200,
        description="The backtest never gives a margin below this (percent on top of the "
        "projected peak).",
    )
    max_margin_percent: float = Field(
        MAX_MARGIN_DEFAULT, ge=0, le=1000,
        description="A service whose own history needs more margin than this to have held "
        "(its next fortnight is not foreseeable from its past) is not downsized.",
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
    before = sizing_history.stored_stat("Maximum")
    cpu_before = snapshot.series_stats(ECS, "CPUUtilization", before)
    memory_before = snapshot.series_stats(ECS, "MemoryUtilization", before)
    for service in ecs_services(snapshot):
        key = (service.account, service.region, service.metric_key)
        outcome = _judge(snapshot, settings, service, cpu.of(*key), memory.of(*key),
                         (cpu_then.of(*key), memory_then.of(*key)),
                         (cpu_before.of(*key), memory_before.of(*key)))
        result.add(outcome)
    return result


def _price_lookup(snapshot: Snapshot, service: ServiceView, by_cost: tuple[PricedSize, ...]
                  ) -> Callable[[int, int], float | None]:
    """service.hourly_usd, answered from the region's priced sizes (the same figures) when the
    size is a valid Fargate pair: ~20,000 services ask for theirs."""
    prices = snapshot.derived(
        f"fargate-hourly/{_price_key(service)}",
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


def _price_key(service: ServiceView) -> str:
    """Prices differ by region, platform and Spot share: one cache entry per combination."""
    return f"{service.region}/{service.os_kind}/{service.arch}/{service.spot_share}"


def _judge(snapshot: Snapshot, settings: Settings, service: ServiceView, cpu: OneSeries,
           mem: OneSeries, then: tuple[OneSeries, OneSeries],
           history: tuple[OneSeries, OneSeries]) -> Finding | Skipped | None:
    resource = service.resource
    # Size what ran the window: AWS/ECS utilization is relative to the task definition of the
    # tasks that produced it, so a rollout that changed the size inside the window (or one
    # still running) leaves no single size to judge against.
    ran = size_that_ran(service, snapshot.window_start)
    if ran.skip is not None:
        return skipped_for(resource, RULE_ID, *ran.skip)
    service = ran.service_as_ran(service)

    by_cost = snapshot.derived(
        f"fargate-sizes-by-cost/{_price_key(service)}",
        lambda _: sizes_by_cost(lambda c, m: service.hourly_usd(c, m) or float("inf"),
                                service.os_kind or "LINUX"))
    hourly = _price_lookup(snapshot, service, by_cost)

    current_hourly = hourly(service.cpu_units, service.memory_mib)
    if current_hourly is None:
        return skipped_for(resource, RULE_ID, "not-applicable", no_price_detail(service))

    expected = snapshot.expected_datapoints
    window_coverage = min(cpu.coverage(expected), mem.coverage(expected))
    datapoints = min(cpu.rows, mem.rows)
    if window_coverage < settings.min_coverage:
        return skipped_for(
            resource, RULE_ID, "insufficient-data",
            f"{datapoints} of {expected} hourly datapoints ({window_coverage:.0%}); "
            f"needs {settings.min_coverage:.0%} of the window",
        )

    # Well used over the recent window: nothing to say (the bulk figures, cheap for every
    # service; only the candidates read their whole history below).
    if cpu.percentile(settings.percentile) >= settings.threshold_percent and \
            mem.maximum >= settings.threshold_percent:
        return None

    # Size from the sizing history (the weeks before the window, then the window), from the
    # start of the revision that runs: utilization is relative to the task size that made it.
    since = _history_since(snapshot, service, ran)
    cpu_usage = _usage(history[0], cpu).since(since)
    mem_usage = _usage(history[1], mem).since(since)
    years = YearAgo(*(_points(series) for series in then)) if settings.year_ago else None
    margins = ecs_sizing.margins(settings, cpu_usage, mem_usage, years, snapshot.history_start,
                                 snapshot.window_end, snapshot.period_seconds)
    if margins.failed is not None:
        return skipped_for(resource, RULE_ID, "not-applicable", margins.failed)
    plan = ecs_sizing.plan(settings, cpu_usage, mem_usage, years, snapshot.history_start,
                           snapshot.window_end, backtested=margins.basis == "backtest")
    cpu_need_pct, cpu_peak_pct, mem_peak_pct = plan.cpu_percentile, plan.cpu_peak, \
        plan.memory_peak
    cpu_trend, mem_trend = plan.cpu_trend, plan.memory_trend
    horizon = settings.trend_horizon_days
    cpu_projected_pct, mem_projected_pct = plan.cpu_projected, plan.memory_projected
    seasons, seasonal = plan.seasons, plan.seasonal
    window_peaks = {"CPU": cpu_peak_pct, "memory": mem_peak_pct}
    peak_headroom = 1 + margins.cpu_percent / 100
    # Never below the observed peak: CPU throttles and memory OOM-kills above the task size.
    cpu_needed_units = plan.cpu.need(margins.cpu_percent) / 100 * service.cpu_units
    memory_needed_mib = plan.memory.need(margins.memory_percent) / 100 * service.memory_mib

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
    rates = pricing.fargate_platform_rates(service.region, os_kind=service.os_kind or "LINUX",
                                           arch=service.arch or "X86_64")
    evidence = {
        f"cpu_{pct_label}_percent": rounded(cpu_need_pct),
        "cpu_max_percent": rounded(cpu_peak_pct),
        # medians of the hourly peaks: the typical hour, from the series already fetched
        # (an Average series would be billed again for a figure no decision uses)
        "cpu_median_hourly_peak_percent": rounded(cpu_usage.median),
        "memory_max_percent": rounded(mem_peak_pct),
        "memory_median_hourly_peak_percent": rounded(mem_usage.median),
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
        "cpu_daily_max_percent": _daily_peaks(cpu_usage),
        "memory_daily_max_percent": _daily_peaks(mem_usage),
    }
    evidence.update(_history_evidence(snapshot, cpu_usage, mem_usage, margins))
    evidence.update(_year_ago_evidence(settings, seasons))
    if rates:
        evidence["price_vcpu_hour_usd"] = rates.vcpu.usd
        evidence["price_gb_hour_usd"] = rates.gb.usd
        if rates.os_license is not None:
            evidence["price_os_license_vcpu_hour_usd"] = rates.os_license.usd
        evidence["price_as_of"] = rates.vcpu.as_of
    # what how_to_apply needs: the cluster (from the row, not the ARN, which in the old format
    # has no cluster), the revision that ran and how this service deploys
    evidence.update({
        "cluster": service.cluster,
        "task_definition": service.task_definition,
        "deployment_controller": service.controller,
        "platform": service.platform_label,
        "os_family": service.os_family or "LINUX",
        "cpu_architecture": service.cpu_architecture or "X86_64",
    })
    days = _days_of(cpu_usage, mem_usage, snapshot.window_end)
    reason = (
        f"CPU {pct_label} {cpu_need_pct:.0f}% (peak {cpu_peak_pct:.0f}%) and memory peak "
        f"{mem_peak_pct:.0f}% of {_size(service.cpu_units, service.memory_mib)}"
        f"{_platform_note(service)} over {days} days; "
        f"{_size(new_cpu, new_memory)} still covers the peak with "
        f"{margins.cpu_percent:.0f}% CPU and {margins.memory_percent:.0f}% memory margin "
        f"({_margin_source(margins)})"
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
        pricing=pricing.basis(*service.prices()),
        evidence=evidence,
        reason=reason,
    )


# --- the sizing history and its backtest --------------------------------------------------------

def _points(series: OneSeries) -> tuple[np.ndarray, np.ndarray] | None:
    return None if series.at is None else series.stats.points(series.at)


def _usage(before: OneSeries, window: OneSeries) -> Usage:
    """The hourly Maximum from the sizing history's start: the part before the window, then
    the window's own."""
    parts = [points for points in (_points(before), _points(window)) if points is not None]
    if not parts:
        return Usage(np.array([], dtype=np.int64), np.array([]))
    return Usage.joined(*parts)


def _history_since(snapshot: Snapshot, service: ServiceView, ran: WindowRevision) -> int:
    """ns since the epoch from which the sizing history is relative to the task size that runs.

    A deployment that started inside the history replaced a revision that may have had another
    size: the history before it counts when that revision is known to be the same size (or
    there was none before it), else it starts with the deployment."""
    start = snapshot.history_start
    deployment = ran.deployment
    if deployment is not None and deployment.created_at is not None and \
            deployment.created_at > start and not _same_size_before(service, deployment):
        start = deployment.created_at
    return int(start.timestamp()) * 10**9


def _same_size_before(service: ServiceView, deployment: DeploymentView) -> bool:
    if revision_number(deployment.task_definition) <= 1 or deployment.size is None:
        return True  # the family's first revision: nothing ran before it
    before = next((other for other in service.deployments
                   if other is not deployment and other.size is not None), None)
    if before is not None:
        return before.size is not None and before.size.same_as(deployment.size)
    previous = deployment.previous[1] if deployment.previous is not None else None
    return previous is not None and previous.same_as(deployment.size)


def _daily_peaks(usage: Usage) -> list[float]:
    return [round(float(value), 1) for value in usage.daily[1]]


def _days_of(cpu: Usage, memory: Usage, end: datetime) -> int:
    """Whole days of data sized from (a young service has fewer than the history asks)."""
    if cpu.empty or memory.empty:
        return 0
    first = max(cpu.first_ns, memory.first_ns)
    return max(1, round((end.timestamp() * 10**9 - first) / backtest.DAY_NS))


def _margin_source(margins: Margins) -> str:
    if margins.basis == "backtest":
        return "its own history's backtest: " + margins.summary()
    return margins.summary()


def _history_evidence(snapshot: Snapshot, cpu: Usage, memory: Usage,
                      margins: Margins) -> dict[str, object]:
    tested = margins.tested
    return {
        "sizing_history_days": _days_of(cpu, memory, snapshot.window_end),
        "sizing_history_start": snapshot.history_start.isoformat(),
        "margin_basis": margins.basis,
        "cpu_margin_percent": rounded(margins.cpu_percent),
        "memory_margin_percent": rounded(margins.memory_percent),
        "backtest": margins.summary(),
        "backtest_fortnights": tested.fortnights,
        "backtest_weeks": [datetime.fromtimestamp(replay.at_ns / 1e9, tz=UTC).date().isoformat()
                           for replay in tested.replays],
        "backtest_cpu_margin_needed_percent": [rounded(replay.cpu_margin)
                                               for replay in tested.replays],
        "backtest_memory_margin_needed_percent": [rounded(replay.memory_margin)
                                                  for replay in tested.replays],
    }


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
    return size_text(cpu_units, memory_mib)


def _platform_note(service: ServiceView) -> str:
    label = service.platform_label
    return "" if label == "Linux/X86_64" else f" ({label})"


# --- how to apply -----------------------------------------------------------------------------

# Reads `aws ecs describe-task-definition --include TAGS` output (argv[1]) and prints a
# RegisterTaskDefinition input with the task size argv[2]/argv[3]. Containers' cpu and memory
# reservations must fit in the task (ContainerDefinition: "the total amount of CPU reserved for
# all containers within a task be lower than the task-level cpu value", "The total amount of
# memory reserved for all containers within a task must be lower than the task memory value",
# and memory must be greater than memoryReservation:
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html), so
# when they would not, they shrink in proportion; a container's hard limit is capped at the
# task's memory. Values that already fit are kept. DescribeTaskDefinition returns fields about
# the registered revision that RegisterTaskDefinition does not take (its request syntax:
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html);
# they are dropped, and the tags (returned beside the definition) go back in.
FIT_TASK_DEFINITION = """\
import json, sys
described = json.load(open(sys.argv[1]))
cpu, memory = int(sys.argv[2]), int(sys.argv[3])
task = described["taskDefinition"]
for key in ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
            "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt"):
    task.pop(key, None)
if described.get("tags"):
    task["tags"] = described["tags"]
task["cpu"], task["memory"] = str(cpu), str(memory)
containers = task["containerDefinitions"]
used = sum(c.get("cpu") or 0 for c in containers)
for c in containers:
    if used > cpu and c.get("cpu"):
        c["cpu"] = c["cpu"] * cpu // used
reserved = sum(c.get("memoryReservation") or c.get("memory") or 0 for c in containers)
share = min(1.0, memory / reserved) if reserved else 1.0
for c in containers:
    for key in ("memory", "memoryReservation"):
        if c.get(key):
            c[key] = max(6, min(memory, int(c[key] * share)))
    if c.get("memory") and (c.get("memoryReservation") or 0) >= c["memory"]:
        c["memoryReservation"] = c["memory"] - 1
json.dump(task, sys.stdout, indent=2)
"""

# Builds the CodeDeploy CreateDeployment input (argv: application, deployment group, new task
# definition ARN, container name, container port): an AppSpec whose TargetService names the new
# revision and the container and port the load balancer routes to
# (https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html),
# passed inline as AppSpecContent
# (https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_RevisionLocation.html).
CODEDEPLOY_INPUT = """\
import json, sys
application, group, task_definition, container, port = sys.argv[1:6]
appspec = {"version": 0.0, "Resources": [{"TargetService": {
    "Type": "AWS::ECS::Service",
    "Properties": {"TaskDefinition": task_definition,
                   "LoadBalancerInfo": {"ContainerName": container,
                                        "ContainerPort": int(port)}}}}]}
json.dump({"applicationName": application, "deploymentGroupName": group,
           "revision": {"revisionType": "AppSpecContent",
                        "appSpecContent": {"content": json.dumps(appspec)}}},
          sys.stdout, indent=2)
"""

# Builds the CreateTaskSet input for an EXTERNAL-controller service (argv: the PRIMARY task set
# as DescribeServices returns it, cluster, service, new task definition ARN): the same network,
# load balancers, registries, capacity and platform version as the PRIMARY task set, at 100%
# (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateTaskSet.html).
EXTERNAL_TASK_SET_INPUT = """\
import json, sys
primary = json.load(open(sys.argv[1]))
cluster, service, task_definition = sys.argv[2:5]
task_set = {"cluster": cluster, "service": service, "taskDefinition": task_definition,
            "scale": primary.get("scale") or {"value": 100.0, "unit": "PERCENT"}}
for key in ("networkConfiguration", "loadBalancers", "serviceRegistries", "platformVersion"):
    if primary.get(key):
        task_set[key] = primary[key]
if primary.get("capacityProviderStrategy"):
    task_set["capacityProviderStrategy"] = primary["capacityProviderStrategy"]
elif primary.get("launchType"):
    task_set["launchType"] = primary["launchType"]
json.dump(task_set, sys.stdout, indent=2)
"""


# ECS cluster and service names: "Up to 255 letters (uppercase and lowercase), numbers,
# underscores, and hyphens" (CreateService / CreateCluster).
_PLAIN = re.compile(r"[A-Za-z0-9_=\[\]?.&' -]+")


def _shell_word(text: str) -> str:
    """A JMESPath query as one shell word: in double quotes when it holds nothing the shell
    expands there (readable: 'edufly' stays as typed), else single-quoted by shlex."""
    return f'"{text}"' if _PLAIN.fullmatch(text) else shlex.quote(text)


def _heredoc(script: str) -> str:
    return f"<<'PY'\n{script}PY"


def how_to_apply(finding: Finding) -> dict[str, str]:
    """CLI (one bash block that runs as pasted, with awscli and python3 only), Terraform and CDK.

    ECS-controller services: register the resized revision, then UpdateService with it. Blue/
    green (CODE_DEPLOY) services cannot take a new task definition from UpdateService ("If the
    network configuration, platform version, task definition, or load balancer need to be
    updated, create a new CodeDeploy deployment"); EXTERNAL ones take it through a new task
    set made primary (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html).
    """
    evidence = finding.evidence
    cpu, memory = int(finding.recommended["cpu"]), int(finding.recommended["memory"])
    region = finding.region
    cluster = str(evidence.get("cluster") or "")
    if not cluster:  # findings from before the cluster was recorded: the ARN's, if it has one
        parts = finding.resource_id.split(":", 5)[-1].split("/")
        cluster = parts[1] if len(parts) == 3 else "default"
    service = finding.name
    revision = revision_name(str(evidence.get("task_definition") or service))
    controller = str(evidence.get("deployment_controller") or "ECS")
    stem = "rightsizer-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in service)
    q = shlex.quote
    was = finding.current
    header = (
        f"# ecs-rightsize: {service} (cluster {cluster}, {region}): {revision} "
        f"{_size(int(was['cpu']), int(was['memory']))} -> {_size(cpu, memory)}\n"
        "# Reads the revision that ran, writes a copy with the new task size (container cpu and\n"
        "# memory reservations scaled down only where they would not fit), registers it"
    )
    steps = [
        "set -euo pipefail",
        'export AWS_PAGER=""',
        f"aws ecs describe-task-definition --region {q(region)} --task-definition "
        f"{q(revision)} --include TAGS --output json > {stem}-current.json",
        f"python3 - {stem}-current.json {cpu} {memory} > {stem}-taskdef.json "
        + _heredoc(FIT_TASK_DEFINITION),
        f"NEW_TASK_DEFINITION=$(aws ecs register-task-definition --region {q(region)} "
        f"--cli-input-json file://{stem}-taskdef.json "
        "--query taskDefinition.taskDefinitionArn --output text)",
        'echo "registered $NEW_TASK_DEFINITION"',
    ]
    if controller == "CODE_DEPLOY":
        missing = f"no CodeDeploy deployment group deploys {cluster}/{service}"
        header += (",\n# then deploys it with CodeDeploy: a blue/green (CODE_DEPLOY) service "
                   "takes a new task\n# definition only from a CodeDeploy deployment with an "
                   "AppSpec, not from update-service.\n# Add the lifecycle hooks your usual "
                   "AppSpec has, if any.")
        steps += [
            "# the CodeDeploy application and deployment group that deploy this service",
            'FOUND=""',
            f"for APP in $(aws deploy list-applications --region {q(region)} "
            "--query 'applications[]' --output text); do\n"
            f"  for GROUP in $(aws deploy list-deployment-groups --region {q(region)} "
            "--application-name \"$APP\" --query 'deploymentGroups[]' --output text); do\n"
            f"    MATCH=$(aws deploy get-deployment-group --region {q(region)} "
            "--application-name \"$APP\" --deployment-group-name \"$GROUP\" --query "
            + _shell_word(f"deploymentGroupInfo.ecsServices[?clusterName=='{cluster}' && "
                          f"serviceName=='{service}'].serviceName")
            + " --output text)\n"
            f"    if [ \"$MATCH\" = {q(service)} ]; then FOUND=\"$APP $GROUP\"; break 2; fi\n"
            "  done\n"
            "done",
            f"[ -n \"$FOUND\" ] || {{ echo {q(missing)} >&2; exit 1; }}",
            'read -r APP GROUP <<< "$FOUND"',
            f"read -r CONTAINER PORT <<< \"$(aws ecs describe-services --region {q(region)} "
            f"--cluster {q(cluster)} --services {q(service)} --query "
            "'services[0].loadBalancers[0].[containerName,containerPort]' --output text)\"",
            f"python3 - \"$APP\" \"$GROUP\" \"$NEW_TASK_DEFINITION\" \"$CONTAINER\" \"$PORT\" "
            f"> {stem}-deployment.json " + _heredoc(CODEDEPLOY_INPUT),
            f"aws deploy create-deployment --region {q(region)} "
            f"--cli-input-json file://{stem}-deployment.json --query deploymentId --output text",
        ]
    elif controller == "EXTERNAL":
        header += (",\n# then starts it as a new task set and makes that primary: an EXTERNAL-"
                   "controller service\n# takes a new task definition only through a task set, "
                   "not from update-service.\n# The old task set keeps running until you delete "
                   "it (last line printed).")
        steps += [
            f"aws ecs describe-services --region {q(region)} --cluster {q(cluster)} "
            f"--services {q(service)} --query \"services[0].taskSets[?status=='PRIMARY'] | [0]\""
            f" --output json > {stem}-primary-task-set.json",
            f"OLD_TASK_SET=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))"
            f"[\"taskSetArn\"])' {stem}-primary-task-set.json)",
            f"python3 - {stem}-primary-task-set.json {q(cluster)} {q(service)} "
            f"\"$NEW_TASK_DEFINITION\" > {stem}-task-set.json " + _heredoc(EXTERNAL_TASK_SET_INPUT),
            f"NEW_TASK_SET=$(aws ecs create-task-set --region {q(region)} --cli-input-json "
            f"file://{stem}-task-set.json --query taskSet.taskSetArn --output text)",
            f"aws ecs update-service-primary-task-set --region {q(region)} --cluster {q(cluster)} "
            f"--service {q(service)} --primary-task-set \"$NEW_TASK_SET\" --query taskSet.status "
            "--output text",
            f"echo \"when $NEW_TASK_SET is steady: aws ecs delete-task-set --region {region} "
            f"--cluster {cluster} --service {service} --task-set $OLD_TASK_SET\"",
        ]
    else:
        header += ",\n# and points the service at it (a rolling deployment)."
        steps.append(
            f"aws ecs update-service --region {q(region)} --cluster {q(cluster)} --service "
            f"{q(service)} --task-definition \"$NEW_TASK_DEFINITION\" "
            "--query service.taskDefinition --output text")
    cli = header + "\n(\n" + "\n".join(steps) + "\n)"
    return {"cli": cli, "terraform": _terraform(finding, cpu, memory, controller),
            "cdk": _cdk(finding, cpu, memory)}


def _terraform(finding: Finding, cpu: int, memory: int, controller: str) -> str:
    family = revision_name(str(finding.evidence.get("task_definition") or finding.name))
    family = family.rpartition(":")[0] or family
    text = (f"# aws_ecs_task_definition for family \"{family}\": task size\n"
            f"cpu    = \"{cpu}\"\nmemory = \"{memory}\"\n"
            "# keep each container's cpu / memory / memoryReservation in container_definitions\n"
            "# within the task size (their sums must fit)")
    if controller == "CODE_DEPLOY":
        text += ("\n# CODE_DEPLOY service: the new revision reaches the service through a "
                 "CodeDeploy\n# deployment (aws_codedeploy_deployment_group + your pipeline), "
                 "not aws_ecs_service.task_definition")
    return text


def _cdk(finding: Finding, cpu: int, memory: int) -> str:
    os_family = str(finding.evidence.get("os_family") or "LINUX")
    arch = str(finding.evidence.get("cpu_architecture") or "X86_64")
    text = f"// ecs.FargateTaskDefinition props\ncpu: {cpu},\nmemoryLimitMiB: {memory},"
    if (os_family, arch) != ("LINUX", "X86_64"):
        text += ("\nruntimePlatform: {\n"
                 f"  operatingSystemFamily: ecs.OperatingSystemFamily.{os_family},\n"
                 f"  cpuArchitecture: ecs.CpuArchitecture.{arch},\n}},")
    return text + "\n// containers' cpu / memoryLimitMiB / memoryReservationMiB must fit in it"


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
    bill_services=('Amazon Elastic Container Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        # over the sizing history (analysis.sizing_history_days): one query a series still
        MetricNeed("ecs-service", ECS, "CPUUtilization", ("Maximum",), history=True),
        MetricNeed("ecs-service", ECS, "MemoryUtilization", ("Maximum",), history=True),
        MetricNeed("ecs-service", ECS, "CPUUtilization", ("Maximum",), year_ago=True,
                   setting="year_ago"),
        MetricNeed("ecs-service", ECS, "MemoryUtilization", ("Maximum",), year_ago=True,
                   setting="year_ago"),
        # task count per hour, where Container Insights publishes it: the busy hours
        MetricNeed("ecs-service-insights", CONTAINER_INSIGHTS, "RunningTaskCount",
                   ("Maximum",)),
    ),
)
