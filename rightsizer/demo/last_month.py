"""The demo's last month: a report.json planted as if rightsizer had run a month ago.

It held one finding the EduFly team then applied: ecs-rightsize took edufly-report-worker
from 1 vCPU / 2 GB down to 0.5 vCPU / 1 GB (demo/account.py rolls that revision out
WORKER_RESIZED_DAYS_AGO days ago). This month's run verifies the change against the worker's
peaks on the new size, so `analyze --demo` shows one applied change that held. Priced with
the same embedded Fargate list prices the rule uses; the reason and evidence are written the
way ecs-rightsize writes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rightsizer import pricing
from rightsizer.demo.account import (
    DEMO_CLUSTER,
    DEMO_REGION,
    SERVICES,
    WORKER_SIZE_BEFORE,
)
from rightsizer.report.model import Report
from rightsizer.rules import ecs_rightsize
from rightsizer.rules.findings import Finding
from rightsizer.rules.support.ecs_common import size_text

# moto's account id, which the demo account answers with
DEMO_ACCOUNT = "123456789012"
LAST_RUN_DAYS_AGO = 30
LOOKBACK_DAYS = 14


def _month_before(moment: datetime) -> str:
    index = moment.year * 12 + moment.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def planted_report(window_end: datetime, account: str = DEMO_ACCOUNT) -> tuple[str, Report]:
    """(month, report) of the run a month before `window_end`, in its own month folder."""
    worker = next(spec for spec in SERVICES if spec.role == "worker")
    ran = window_end - timedelta(days=LAST_RUN_DAYS_AGO)
    stamp = ran.strftime("%Y-%m-%dT%H:%M:%SZ")
    before_cpu, before_memory = WORKER_SIZE_BEFORE
    settings = ecs_rightsize.Settings()
    old = pricing.fargate_hourly_usd(DEMO_REGION, before_cpu, before_memory)
    new = pricing.fargate_hourly_usd(DEMO_REGION, worker.cpu, worker.memory)
    if old is None or new is None:
        raise ValueError(f"no Fargate price for {DEMO_REGION}: the demo cannot be priced")
    arn = f"arn:aws:ecs:{DEMO_REGION}:{account}:service/{DEMO_CLUSTER}/{worker.name}"
    finding = Finding(
        rule=ecs_rightsize.RULE_ID, resource_type="ecs-service", resource_id=arn,
        name=worker.name, account=account, region=DEMO_REGION,
        current={"cpu": before_cpu, "memory": before_memory},
        recommended={"cpu": worker.cpu, "memory": worker.memory},
        monthly_cost_usd=old * pricing.HOURS_PER_MONTH,
        monthly_savings_usd=(old - new) * pricing.HOURS_PER_MONTH,
        evidence={
            "cpu_p95_percent": 34.0, "cpu_max_percent": 39.5, "memory_max_percent": 30.2,
            "coverage": 1.0, "threshold_percent": settings.threshold_percent,
            "headroom_percent": settings.headroom_percent,
            "peak_headroom_percent": settings.peak_headroom_percent, "task_count": 1,
            "cluster": DEMO_CLUSTER,
            "task_definition": f"arn:aws:ecs:{DEMO_REGION}:{account}:task-definition/"
                               f"{worker.name}:1",
            "deployment_controller": "ECS", "os_family": "LINUX",
            "cpu_architecture": "X86_64"},
        reason=(f"CPU p95 34% (peak 40%) and memory peak 30% of "
                f"{size_text(before_cpu, before_memory)} over {LOOKBACK_DAYS} days; "
                f"{size_text(worker.cpu, worker.memory)} still covers the peak with "
                f"{settings.peak_headroom_percent:g}% CPU and {settings.headroom_percent:g}% "
                "memory headroom"),
        severity="medium")
    row = {**finding.to_dict(), "how_to_apply": ecs_rightsize.how_to_apply(finding)}
    saving = row["monthly_savings_usd"]
    return _month_before(window_end), Report.model_validate({
        "schema_version": "1", "generated_at": stamp,
        "window": {"start": (ran - timedelta(days=LOOKBACK_DAYS)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "end": stamp, "days": LOOKBACK_DAYS},
        "accounts": [account], "regions": [DEMO_REGION],
        "summary": {"findings": 1, "monthly_savings_usd": saving,
                    "by_rule": {finding.rule: {"findings": 1, "monthly_savings_usd": saving}}},
        "findings": [row], "skipped": [], "errors": []})
