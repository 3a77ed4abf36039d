"""ecs-autoscaling-missing: fixed-size services whose load swings widely through the day."""

from __future__ import annotations

import json
import math
import shlex
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.support.ecs_common import ServiceView, ecs_services, has_scalable_target
from rightsizer.rules.support.series import rounded
from rightsizer.snapshot.store import Snapshot

RULE_ID = "ecs-autoscaling-missing"
ECS = "AWS/ECS"
# ECS's predefined target-tracking metric: the service's average CPU as a share of its tasks'
# reserved CPU. The rule reads the hourly Maximum (the series ecs-rightsize fetches anyway, so
# it is billed once): it is never below the average, so the tasks it counts are never too few.
PREDEFINED_METRIC = "ECSServiceAverageCPUUtilization"


class Settings(RuleSettings):
    min_desired_count: int = Field(
        2, ge=2, le=1000,
        description="Only services running at least this many tasks (one task cannot scale in).",
    )
    min_swing_ratio: float = Field(
        3, gt=1, le=100,
        description="Flag when the high percentile of hourly CPU averages is at least this "
        "many times the low percentile.",
    )
    high_percentile: float = Field(95, gt=0, le=100, description="The busy-hours percentile.")
    low_percentile: float = Field(10, ge=0, lt=100, description="The quiet-hours percentile.")
    target_cpu_percent: float = Field(
        70, gt=0, le=100, description="Target value of the recommended CPU tracking policy."
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the lookback window that must have datapoints to judge.",
    )

    @model_validator(mode="after")
    def _low_under_high(self) -> Settings:
        if self.low_percentile >= self.high_percentile:
            raise ValueError("low_percentile must be less than high_percentile")
        return self


def needed_tasks(cpu_average: pd.Series, desired: int, target_percent: float,
                 min_capacity: int) -> np.ndarray:
    """Tasks target tracking would have run each hour: enough to bring the hour's CPU to the
    target (ceil(desired x util / target)), within [min_capacity, desired]."""
    raw = np.ceil(desired * cpu_average.to_numpy(dtype=float) / target_percent)
    return np.clip(raw, min_capacity, desired)


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for service in ecs_services(snapshot):
        outcome = _judge(snapshot, settings, service)
        result.add(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, service: ServiceView
           ) -> Finding | Skipped | None:
    resource = service.resource
    if has_scalable_target(snapshot, service):
        return None  # a scalable target exists (target tracking, step or scheduled)
    if service.desired_count < settings.min_desired_count:
        return None  # too few tasks for scaling in to save anything
    unreadable = snapshot.read_failure("application-autoscaling", "DescribeScalableTargets",
                                       service.account, service.region)
    if unreadable:
        return skipped_for(resource, RULE_ID, "insufficient-data",
                           f"scalable targets could not be read ({unreadable})")
    if not service.on_fargate:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           "runs on EC2 capacity: scaling tasks saves only if the cluster's "
                           "instances scale too")
    if not service.cpu_units or not service.memory_mib:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           "task definition has no task-level CPU/memory")
    hourly = service.hourly_usd(service.cpu_units, service.memory_mib)
    if hourly is None:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"no price for Fargate in {service.region}")

    stats = snapshot.series_stats(ECS, "CPUUtilization", "Maximum")
    at = stats.position(service.account, service.region, service.metric_key)
    expected = snapshot.expected_datapoints
    seen = 0.0 if at is None else min(1.0, int(stats.count[at]) / expected)
    if seen < settings.min_coverage:
        return skipped_for(
            resource, RULE_ID, "insufficient-data",
            f"{0 if at is None else stats.rows(at)} of {expected} hourly CPU datapoints "
            f"({seen:.0%}); needs {settings.min_coverage:.0%} of the window")

    if at is None:  # unreachable: coverage above zero means the series exists
        return None
    high = float(stats.percentile(settings.high_percentile)[at])
    low = float(stats.percentile(settings.low_percentile)[at])
    if high <= 0:
        return None  # no load at all: a sizing or idle question, not a scaling one
    swing = high / low if low > 0 else math.inf
    if swing < settings.min_swing_ratio:
        return None  # load is steady: a fixed count fits it
    # only a swinging service gets its hour-by-hour series
    cpu = snapshot.series(service.account, service.region, ECS, "CPUUtilization",
                          service.metric_key, "Maximum").dropna()

    desired = service.desired_count
    # Quiet hours need desired x low/high tasks; never below one running task.
    min_capacity = max(1, math.ceil(desired * low / high))
    per_hour = needed_tasks(cpu, desired, settings.target_cpu_percent, min_capacity)
    average_needed = float(per_hour.mean())
    hours = pricing.HOURS_PER_MONTH
    savings = (desired - average_needed) * hourly * hours
    if savings <= 0:
        return None  # busy enough every hour that tracking would keep every task
    low_label, high_label = f"p{settings.low_percentile:g}", f"p{settings.high_percentile:g}"
    swing_text = f"{swing:.1f}x" if math.isfinite(swing) else "unbounded"
    reason = (
        f"{desired} tasks all day while hourly CPU peaks swing {swing_text} "
        f"({low_label} {low:.0f}%, {high_label} {high:.0f}%); CPU target tracking at "
        f"{settings.target_cpu_percent:g}% between {min_capacity} and {desired} tasks would "
        f"have averaged {average_needed:.1f} tasks"
    )
    evidence: dict[str, Any] = {
        "cluster": service.cluster,
        "desired_count": desired,
        f"cpu_peak_{low_label}_percent": rounded(low),
        f"cpu_peak_{high_label}_percent": rounded(high),
        "cpu_peak_mean_percent": rounded(float(cpu.mean())),
        "swing_ratio": round(swing, 2) if math.isfinite(swing) else None,
        "min_swing_ratio": settings.min_swing_ratio,
        "target_cpu_percent": settings.target_cpu_percent,
        "min_capacity": min_capacity,
        "max_capacity": desired,
        "average_needed_tasks": round(average_needed, 2),
        "task_hourly_usd": round(hourly, 5),
        "hours_per_month": hours,
        "coverage": round(seen, 3),
        "datapoints": len(cpu),
        "assumptions": (
            "needed tasks per hour = ceil(desired x hourly CPU peak / target), clamped to "
            "[min, max]; the window's hourly pattern repeats; CPU is the only bottleneck; "
            "scaling reacts within the hour (cooldowns and memory limits make real savings "
            "lower)"
        ),
    }
    return finding_for(
        resource, RULE_ID,
        current={"desired_count": desired, "autoscaling": "none"},
        recommended={"policy": "TargetTrackingScaling", "metric": PREDEFINED_METRIC,
                     "target_percent": settings.target_cpu_percent,
                     "min_capacity": min_capacity, "max_capacity": desired},
        monthly_cost_usd=desired * hourly * hours,
        monthly_savings_usd=savings,
        pricing=pricing.basis(*service.prices()),
        evidence=evidence,
        reason=reason,
    )


POLICY_NAME = "cpu-target-tracking"
SCALE_OUT_COOLDOWN_SECONDS = 60
SCALE_IN_COOLDOWN_SECONDS = 300


def target_tracking_configuration(finding: Finding) -> dict[str, Any]:
    """PutScalingPolicy's TargetTrackingScalingPolicyConfiguration for the recommendation."""
    return {
        "TargetValue": float(finding.recommended["target_percent"]),
        "PredefinedMetricSpecification": {"PredefinedMetricType": PREDEFINED_METRIC},
        "ScaleOutCooldown": SCALE_OUT_COOLDOWN_SECONDS,
        "ScaleInCooldown": SCALE_IN_COOLDOWN_SECONDS,
    }


def how_to_apply(finding: Finding) -> dict[str, str]:
    # RegisterScalableTarget "registers or updates a scalable target"; on an existing target
    # "any parameters that you don't specify are not changed"
    # (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
    # PutScalingPolicy "creates or updates a scaling policy": a policy of the same name is
    # updated, others on the target stay in force beside it
    # (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html).
    # The rule fires only where the service has no scalable target, so neither replaces
    # anything the team set up.
    rec = finding.recommended
    cluster = finding.evidence.get("cluster", "CLUSTER")
    resource_id = shlex.quote(f"service/{cluster}/{finding.name}")
    region = shlex.quote(finding.region)
    policy = shlex.quote(json.dumps(target_tracking_configuration(finding)))
    target = f"{float(rec['target_percent']):g}"
    common = (f"--region {region} --service-namespace ecs --resource-id {resource_id} "
              "--scalable-dimension ecs:service:DesiredCount")
    return {
        "cli": (
            f"aws application-autoscaling register-scalable-target {common} "
            f"--min-capacity {rec['min_capacity']} --max-capacity {rec['max_capacity']}\n"
            f"aws application-autoscaling put-scaling-policy {common} "
            f"--policy-name {POLICY_NAME} --policy-type TargetTrackingScaling "
            f"--target-tracking-scaling-policy-configuration {policy}"
        ),
        "terraform": (
            "resource \"aws_appautoscaling_target\" \"ecs\" {\n"
            "  service_namespace  = \"ecs\"\n"
            f"  resource_id        = \"service/{cluster}/{finding.name}\"\n"
            "  scalable_dimension = \"ecs:service:DesiredCount\"\n"
            f"  min_capacity       = {rec['min_capacity']}\n"
            f"  max_capacity       = {rec['max_capacity']}\n}}\n\n"
            "resource \"aws_appautoscaling_policy\" \"cpu\" {\n"
            f"  name               = \"{POLICY_NAME}\"\n"
            "  policy_type        = \"TargetTrackingScaling\"\n"
            "  service_namespace  = aws_appautoscaling_target.ecs.service_namespace\n"
            "  resource_id        = aws_appautoscaling_target.ecs.resource_id\n"
            "  scalable_dimension = aws_appautoscaling_target.ecs.scalable_dimension\n"
            "  target_tracking_scaling_policy_configuration {\n"
            f"    target_value       = {target}\n"
            f"    scale_out_cooldown = {SCALE_OUT_COOLDOWN_SECONDS}\n"
            f"    scale_in_cooldown  = {SCALE_IN_COOLDOWN_SECONDS}\n"
            "    predefined_metric_specification {\n"
            f"      predefined_metric_type = \"{PREDEFINED_METRIC}\"\n    }}\n  }}\n}}\n\n"
            "# and in the aws_ecs_service, so Terraform does not undo the scaling:\n"
            "#   lifecycle { ignore_changes = [desired_count] }"
        ),
        "cdk": (
            f"// on the ecs.FargateService for {finding.name}\n"
            "const scaling = service.autoScaleTaskCount({\n"
            f"  minCapacity: {rec['min_capacity']},\n  maxCapacity: {rec['max_capacity']},\n}});\n"
            "scaling.scaleOnCpuUtilization('CpuTargetTracking', {\n"
            f"  targetUtilizationPercent: {target},\n"
            f"  scaleOutCooldown: Duration.seconds({SCALE_OUT_COOLDOWN_SECONDS}),\n"
            f"  scaleInCooldown: Duration.seconds({SCALE_IN_COOLDOWN_SECONDS}),\n}});"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Add autoscaling to services with a daily load swing",
    why=(
        "A service pinned at a fixed task count is sized for its busiest hour and pays for "
        "that all night. When CPU swings several-fold through the day, a target-tracking "
        "policy on CPU lets ECS run fewer tasks in quiet hours and add them back as load "
        "rises; keeping today's count as the maximum means it never costs more than now."
    ),
    resource_type="ecs-service",
    bill_services=('Amazon Elastic Container Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(MetricNeed("ecs-service", ECS, "CPUUtilization", ("Maximum",)),),
)
