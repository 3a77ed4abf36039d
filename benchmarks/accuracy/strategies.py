"""The strategies compared: ours (the production rule), a KRR-style baseline and the naive rule.

Each strategy reads only the training window of a trace and returns, per service name, the
(cpu units, memory MiB) it recommends, or nothing when it would leave the service alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from benchmarks.accuracy.traces import (
    HOURS_PER_DAY,
    RECENT_DAYS,
    RECENT_START,
    TIMESTAMPS,
    TRAIN_DAYS,
    TRAIN_END,
    YEAR_AGO_HOURS,
    Trace,
)
from rightsizer import pricing
from rightsizer.rules import ecs_rightsize
from rightsizer.rules.support import sizing_history, year_ago
from rightsizer.rules.support.fargate_sizes import cheapest_valid_size
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot

REGION = "ap-south-1"
ACCOUNT = "000000000000"
CLUSTER = "bench"

Size = tuple[int, int]
Strategy = Callable[[list[Trace]], dict[str, Size]]


def hourly_usd(cpu_units: int, memory_mib: int) -> float:
    price = pricing.fargate_hourly_usd(REGION, cpu_units, memory_mib)
    if price is None:  # ap-south-1 is in the embedded table; a miss is a broken install
        raise RuntimeError(f"no Fargate price for {REGION}")
    return price


def cheapest_covering(cpu_units: float, memory_mib: float) -> Size | None:
    return cheapest_valid_size(cpu_units, memory_mib, hourly_usd)


def _cheaper(trace: Trace, size: Size | None) -> Size | None:
    """Only a change that costs less is a recommendation."""
    if size is None:
        return None
    if hourly_usd(*size) >= hourly_usd(trace.cpu_units, trace.memory_mib):
        return None
    return size


# --- (a) ours: the real rule on a real Snapshot -------------------------------------------------

def training_snapshot(traces: list[Trace], history_days: int = TRAIN_DAYS) -> Snapshot:
    """The shown history as the collectors would have written it: one ecs_services row; the
    hourly Maximum of CPU and memory, the recent window under "Maximum" and the weeks before
    it under "Maximum@history" (sizing_history); the daily Maximum a year back.
    `history_days` = RECENT_DAYS: what today's rule read (the recent window alone)."""
    services = []
    frames = []
    first = TRAIN_END - history_days * HOURS_PER_DAY
    stamps = TIMESTAMPS[first:TRAIN_END]
    recent = stamps >= TIMESTAMPS[RECENT_START]
    stats = np.where(recent, "Maximum", sizing_history.stored_stat("Maximum"))
    year_hours = slice(YEAR_AGO_HOURS.stop - (history_days + year_ago.AHEAD_DAYS) *
                       HOURS_PER_DAY, YEAR_AGO_HOURS.stop)
    days_ago = TIMESTAMPS[year_hours][::HOURS_PER_DAY]
    for trace in traces:
        services.append({
            "account": ACCOUNT, "region": REGION, "cluster": CLUSTER, "service": trace.name,
            "service_arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{trace.name}",
            "task_definition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{trace.name}:1",
            "cpu_units": str(trace.cpu_units), "memory_mib": str(trace.memory_mib),
            "launch_type": "FARGATE", "capacity_provider_strategy": "[]",
            "cluster_default_strategy": "[]", "load_balancer_count": 1,
            "desired_count": trace.task_count, "running_count": trace.task_count,
            "tags": "{}", "created_at": "2025-01-01 00:00:00+00:00",
            "container_insights": False,
        })
        resource = f"{CLUSTER}/{trace.name}"
        for metric, series in (("CPUUtilization", trace.cpu_max),
                               ("MemoryUtilization", trace.memory_max)):
            frames.append(pd.DataFrame({
                "account": ACCOUNT, "region": REGION, "namespace": "AWS/ECS", "metric": metric,
                "resource": resource, "stat": stats, "timestamp": stamps,
                "value": series[first:TRAIN_END].astype(float),
            }))
            # a daily Maximum is the highest of the day's hourly Maximums
            daily = series[year_hours].reshape(-1, HOURS_PER_DAY).max(axis=1)
            frames.append(pd.DataFrame({
                "account": ACCOUNT, "region": REGION, "namespace": "AWS/ECS", "metric": metric,
                "resource": resource, "stat": year_ago.stored_stat("Maximum"),
                "timestamp": days_ago, "value": daily.astype(float),
            }))
    end = stamps[-1] + pd.Timedelta(hours=1)
    manifest = {
        "generated_at": end.isoformat(),
        "window": {"start": TIMESTAMPS[RECENT_START].isoformat(), "end": end.isoformat(),
                   "days": RECENT_DAYS},
        "sizing_history": {"start": stamps[0].isoformat(), "days": history_days},
        "period_seconds": 3600, "accounts": [ACCOUNT], "regions": [REGION],
    }
    tables = {
        "ecs_services": pd.DataFrame(services, columns=TABLE_COLUMNS["ecs_services"]),
        "metrics": pd.concat(frames, ignore_index=True)[TABLE_COLUMNS["metrics"]],
        "autoscaling_targets": pd.DataFrame(columns=TABLE_COLUMNS["autoscaling_targets"]),
    }
    return Snapshot(manifest=manifest, tables=tables)


def ours(traces: list[Trace], settings: ecs_rightsize.Settings | None = None,
         snapshot: Snapshot | None = None) -> dict[str, Size]:
    """`snapshot`: the traces' training_snapshot, when the caller already built it."""
    result = ecs_rightsize.evaluate(snapshot or training_snapshot(traces),
                                    settings or ecs_rightsize.Settings())
    return {finding.name: (int(finding.recommended["cpu"]), int(finding.recommended["memory"]))
            for finding in result.findings}


def ours_fixed_margin(traces: list[Trace], snapshot: Snapshot | None = None) -> dict[str, Size]:
    """The production rule on the same 8 weeks with `backtest = false`: today's one fixed
    margin for every service (peak_headroom_percent for CPU, headroom_percent for memory)."""
    return ours(traces, ecs_rightsize.Settings(backtest=False), snapshot)


def todays_rule(traces: list[Trace]) -> dict[str, Size]:
    """The rule as it was before the sizing history: the recent 14 days and the fixed
    margins."""
    return ours(traces, ecs_rightsize.Settings(backtest=False),
                training_snapshot(traces, history_days=RECENT_DAYS))


# --- (b) KRR-style: p95 CPU, memory max + 15% ----------------------------------------------------

KRR_CPU_PERCENTILE = 95
KRR_MEMORY_BUFFER = 0.15  # KRR "simple" strategy: memory_buffer_percentage default 15


def krr(traces: list[Trace]) -> dict[str, Size]:
    """KRR's simple strategy sets the request at p95 of CPU usage samples and the memory at the
    max plus 15%, over 14 days. Its samples are fine-grained usage; the hourly Maximum is the
    closest series CloudWatch gives at this period (and the kinder of the two to the
    baseline)."""
    out: dict[str, Size] = {}
    for trace in traces:
        cpu = np.percentile(trace.recent(trace.cpu_max), KRR_CPU_PERCENTILE) / 100
        memory = trace.recent(trace.memory_max).max() / 100 * (1 + KRR_MEMORY_BUFFER)
        size = _cheaper(trace, cheapest_covering(cpu * trace.cpu_units,
                                                 memory * trace.memory_mib))
        if size:
            out[trace.name] = size
    return out


# --- (c) the reference stack's manual rule ---------------------------------------------------

NAIVE_DAYS = 7
NAIVE_THRESHOLD_PERCENT = 50


def naive(traces: list[Trace]) -> dict[str, Size]:
    """Last 7 days of CPUUtilization, daily period, Average statistic; a task that stays under
    50% every day gets half its CPU and memory (rounded up to a valid size)."""
    out: dict[str, Size] = {}
    last_week = slice(TRAIN_END - NAIVE_DAYS * 24, TRAIN_END)
    for trace in traces:
        daily = trace.cpu_avg[last_week].reshape(NAIVE_DAYS, 24).mean(axis=1)
        if daily.max() >= NAIVE_THRESHOLD_PERCENT:
            continue
        size = _cheaper(trace, cheapest_covering(trace.cpu_units / 2, trace.memory_mib / 2))
        if size:
            out[trace.name] = size
    return out


OURS = "ours: 8 weeks, backtested margins"
FIXED = "ours: 8 weeks, fixed margin (backtest = false)"
TODAY = "today's rule: 14 days, fixed margin"
STRATEGIES: dict[str, Strategy] = {OURS: ours, FIXED: ours_fixed_margin, TODAY: todays_rule,
                                   "KRR-style (14 days)": krr,
                                   "naive (7-day daily avg < 50%)": naive}


def describe_settings(settings: ecs_rightsize.Settings | None = None) -> str:
    data = (settings or ecs_rightsize.Settings()).model_dump()
    return json.dumps(data, sort_keys=True)
