"""ecs-autoscaling-missing: fixed-count services whose CPU swings through the day."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from rightsizer import pricing
from rightsizer.rules.ecs_autoscaling_missing import (
    RULE,
    Settings,
    evaluate,
    how_to_apply,
    needed_tasks,
)
from tests.snapshot_factory import HOURS, REGION, SnapshotBuilder, daily_spikes, flat

SWINGING = daily_spikes(10, 60, spike_hours=8, at_hour=8)  # 10% at night, 60% 8 h a day


def service(snap: SnapshotBuilder, name: str = "edufly-api", *, desired: int = 4,
            cpu: np.ndarray = SWINGING, **kwargs) -> None:
    snap.ecs_service(name, cpu=1024, memory=2048, desired=desired, **kwargs)
    snap.ecs_cpu_max(name, cpu)


def test_swinging_fixed_service_gets_target_tracking_with_savings():
    snap = SnapshotBuilder()
    service(snap)
    result = evaluate(snap.build(), Settings())

    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "ecs-autoscaling-missing" and finding.resource_type == "ecs-service"
    assert finding.current == {"desired_count": 4, "autoscaling": "none"}
    # min = ceil(4 x 10 / 60) = 1; quiet hours need ceil(4 x 10 / 70) = 1 task, busy hours
    # ceil(4 x 60 / 70) = 4: 16 quiet hours and 8 busy ones a day
    assert finding.recommended == {
        "policy": "TargetTrackingScaling", "metric": "ECSServiceAverageCPUUtilization",
        "target_percent": 70, "min_capacity": 1, "max_capacity": 4}
    task_hourly = pricing.fargate_hourly_usd(REGION, 1024, 2048)
    assert task_hourly is not None
    average_needed = (16 * 1 + 8 * 4) / 24
    assert finding.evidence["average_needed_tasks"] == pytest.approx(average_needed)
    assert finding.monthly_savings_usd == pytest.approx(
        (4 - average_needed) * task_hourly * 730)
    assert finding.monthly_cost_usd == pytest.approx(4 * task_hourly * 730)
    assert finding.evidence["swing_ratio"] == pytest.approx(6)
    assert "6.0x" in finding.reason


def test_swing_exactly_at_ratio_is_flagged_and_below_is_not():
    snap = SnapshotBuilder()
    service(snap, "at", cpu=daily_spikes(20, 60, spike_hours=8))
    service(snap, "below", cpu=daily_spikes(21, 60, spike_hours=8))
    names = [f.name for f in evaluate(snap.build(), Settings()).findings]
    assert names == ["at"]


def test_steady_load_gets_nothing():
    snap = SnapshotBuilder()
    service(snap, cpu=flat(30))
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_service_with_a_scalable_target_is_left_alone():
    snap = SnapshotBuilder()
    service(snap)
    snap.autoscaling_target("edufly-api", min_capacity=1, max_capacity=4)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_scalable_target_in_another_cluster_does_not_count():
    snap = SnapshotBuilder()
    service(snap)
    snap.autoscaling_target("edufly-api", cluster="other")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_below_min_desired_count_gets_nothing():
    snap = SnapshotBuilder()
    service(snap, desired=1)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_desired_count_exactly_at_minimum_is_judged():
    snap = SnapshotBuilder()
    service(snap, desired=2)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.recommended["max_capacity"] == 2
    assert finding.recommended["min_capacity"] == 1


def test_missing_cpu_data_is_insufficient():
    snap = SnapshotBuilder()
    snap.ecs_service("edufly-api", desired=4)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_partial_cpu_data_is_insufficient():
    snap = SnapshotBuilder()
    service(snap, cpu=SWINGING[: HOURS // 2])
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "50%" in row.detail


def test_region_without_fargate_price_is_skipped():
    snap = SnapshotBuilder()
    snap.ecs_service("edufly-api", desired=4, region="mars-north-1")
    snap.ecs_cpu_max("edufly-api", SWINGING, region="mars-north-1")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert row.detail == "no price for Fargate in mars-north-1"


def test_ec2_launch_type_is_not_applicable():
    snap = SnapshotBuilder()
    service(snap, launch_type="EC2")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"


def test_unreadable_scalable_targets_are_insufficient_data():
    snap = SnapshotBuilder()
    service(snap)
    snap.error("application-autoscaling", "DescribeScalableTargets")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "could not be read" in row.detail


def test_zero_quiet_hours_still_keep_one_task():
    snap = SnapshotBuilder()
    service(snap, cpu=daily_spikes(0, 50, spike_hours=8))
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.recommended["min_capacity"] == 1
    assert finding.evidence["swing_ratio"] is None  # p10 = 0: unbounded


def test_needed_tasks_are_clamped_between_min_and_desired():
    import pandas as pd
    hours = needed_tasks(pd.Series([0.0, 35.0, 70.0, 140.0]), 4, 70, 1)
    assert list(hours) == [1, 2, 4, 4]
    assert math.ceil(4 * 35 / 70) == 2


def test_how_to_apply_registers_target_and_policy():
    snap = SnapshotBuilder()
    service(snap)
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert "--resource-id service/edufly/edufly-api" in steps["cli"]
    assert "--min-capacity 1 --max-capacity 4" in steps["cli"]
    assert "ECSServiceAverageCPUUtilization" in steps["cli"]
    assert "aws_appautoscaling_policy" in steps["terraform"]
    assert "minCapacity: 1,\n  maxCapacity: 4," in steps["cdk"]
    assert RULE.id == "ecs-autoscaling-missing"


def test_settings_validate_percentiles_and_bounds():
    with pytest.raises(ValidationError):
        Settings(low_percentile=95, high_percentile=90)
    with pytest.raises(ValidationError):
        Settings(min_desired_count=1)
    with pytest.raises(ValidationError):
        Settings(min_swing_ratio=1)
