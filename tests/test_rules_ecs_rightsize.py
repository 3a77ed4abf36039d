"""ecs-rightsize: which Fargate services are downsized, to what, and which are left alone."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer import pricing
from rightsizer.rules.ecs_rightsize import Settings, evaluate
from rightsizer.rules.support.fargate_sizes import is_valid_size, valid_sizes
from tests.snapshot_factory import ACCOUNT, HOURS, REGION, SnapshotBuilder, daily_spikes, flat

DEFAULTS = Settings()


def judge(cpu: int, memory: int, cpu_max, memory_max, *, settings: Settings = DEFAULTS,
          days: int = 14, **service):
    snap = SnapshotBuilder(days=days)
    snap.ecs_service("api", cpu=cpu, memory=memory, **service)
    if cpu_max is not None:
        snap.ecs_usage("api", cpu_max=cpu_max, memory_max=memory_max)
    return evaluate(snap.build(), settings)


def only_finding(result):
    assert result.skipped == []
    assert len(result.findings) == 1
    return result.findings[0]


def hourly(cpu: int, memory: int) -> float:
    price = pricing.fargate_hourly_usd(REGION, cpu, memory)
    assert price is not None
    return price


def test_over_provisioned_service_gets_smallest_valid_size_that_holds_the_peak():
    finding = only_finding(judge(2048, 4096, flat(15), flat(20)))

    assert finding.current == {"cpu": 2048, "memory": 4096}
    new_cpu, new_memory = finding.recommended["cpu"], finding.recommended["memory"]
    assert is_valid_size(new_cpu, new_memory)
    # CPU need max(15% x 1.2, 15%) of 2048 = 369 units; memory 20% x 1.2 of 4096 = 983 MiB.
    assert (new_cpu, new_memory) == (512, 1024)
    assert new_cpu >= 0.15 * 2048
    assert new_memory >= 0.20 * 4096 * 1.2
    assert hourly(new_cpu, new_memory) < hourly(2048, 4096)
    assert finding.rule == "ecs-rightsize"
    assert finding.resource_type == "ecs-service"
    assert finding.name == "api"


def test_monthly_savings_is_hourly_difference_times_730_times_tasks():
    finding = only_finding(judge(2048, 4096, flat(15), flat(20), desired=3))

    new = hourly(finding.recommended["cpu"], finding.recommended["memory"])
    current = hourly(2048, 4096)
    assert finding.monthly_savings_usd > 0
    assert finding.monthly_savings_usd == pytest.approx((current - new) * 730 * 3)
    assert finding.monthly_cost_usd == pytest.approx(current * 730 * 3)
    assert finding.evidence["task_count"] == 3


def test_evidence_holds_percentiles_coverage_datapoints_and_daily_peaks():
    cpu = daily_spikes(base=10, spike=15)
    finding = only_finding(judge(2048, 4096, cpu, flat(20)))

    evidence = finding.evidence
    assert evidence["cpu_p95_percent"] == 10.0  # one spike hour a day is under 5% of hours
    assert evidence["cpu_max_percent"] == 15.0
    assert evidence["memory_max_percent"] == 20.0
    assert evidence["coverage"] == 1.0
    assert evidence["datapoints"] == HOURS
    assert evidence["cpu_daily_max_percent"] == [15.0] * 14
    assert evidence["memory_daily_max_percent"] == [20.0] * 14


def test_exactly_at_threshold_is_not_flagged():
    # 4096/16384 at 50%: a cheaper size (4096/10240) would fit, but "under 50%" is strict.
    result = judge(4096, 16384, flat(50), flat(50))
    assert result.findings == []
    assert result.skipped == []


@pytest.mark.parametrize(("cpu_pct", "memory_pct"), [(49.9, 50), (50, 49.9)])
def test_just_below_threshold_is_considered(cpu_pct, memory_pct):
    finding = only_finding(judge(4096, 16384, flat(cpu_pct), flat(memory_pct)))
    new_cpu, new_memory = finding.recommended["cpu"], finding.recommended["memory"]
    assert is_valid_size(new_cpu, new_memory)
    assert new_cpu >= 4096 * cpu_pct / 100 * 1.2
    assert new_memory >= 16384 * memory_pct / 100 * 1.2
    assert finding.monthly_savings_usd > 0


def test_low_average_high_peak_is_not_downsized():
    # Mostly idle, but every day a report job drives CPU to 90%: p95 is low, the peak is not.
    result = judge(2048, 4096, daily_spikes(base=8, spike=90, spike_hours=2), flat(30))
    assert result.findings == []
    assert result.skipped == []


def test_daily_memory_spikes_never_shrink_memory_below_the_spike():
    # CPU is idle, memory spikes to 90% daily: CPU may shrink, memory keeps today's 2 GB.
    # (Intended change: headroom no longer asks for more memory than the task has today,
    # 90% x 1.2 used to force a 3 GB task; this rule downsizes, it does not upsize.)
    finding = only_finding(judge(1024, 2048, flat(10), daily_spikes(base=15, spike=90)))
    assert finding.evidence["memory_max_percent"] == 90.0
    assert finding.recommended["cpu"] < 1024
    assert finding.recommended["memory"] == 2048
    assert is_valid_size(finding.recommended["cpu"], finding.recommended["memory"])


def test_no_datapoints_is_skipped_as_insufficient_data():
    result = judge(2048, 4096, None, None)
    assert result.findings == []
    assert len(result.skipped) == 1
    assert result.skipped[0].reason == "insufficient-data"
    assert result.skipped[0].rule == "ecs-rightsize"


def test_half_covered_window_is_skipped_as_insufficient_data():
    half = flat(15)
    half[: HOURS // 2] = np.nan
    result = judge(2048, 4096, half, flat(20))
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["insufficient-data"]
    assert "50%" in result.skipped[0].detail


def test_coverage_exactly_at_min_coverage_is_judged():
    # 10 days = 240 hourly periods; 192 datapoints = coverage 0.8 exactly.
    cpu, memory = flat(15, 240), flat(20, 240)
    cpu[192:] = np.nan
    memory[192:] = np.nan
    finding = only_finding(judge(2048, 4096, cpu, memory, days=10))
    assert finding.evidence["coverage"] == 0.8
    assert finding.evidence["datapoints"] == 192


def test_coverage_just_under_min_coverage_is_skipped():
    cpu, memory = flat(15, 240), flat(20, 240)
    cpu[191:] = np.nan
    memory[191:] = np.nan
    result = judge(2048, 4096, cpu, memory, days=10)
    assert [row.reason for row in result.skipped] == ["insufficient-data"]


def test_memory_bound_service_keeps_memory_and_only_shrinks_cpu():
    finding = only_finding(judge(4096, 8192, flat(10), flat(85)))
    new_cpu, new_memory = finding.recommended["cpu"], finding.recommended["memory"]
    assert is_valid_size(new_cpu, new_memory)
    assert new_cpu < 4096
    assert new_memory >= 8192  # memory never shrinks below what the service uses
    # 85% x 1.2 would be more than today: headroom is capped at today's size (see above)
    assert (new_cpu, new_memory) == (1024, 8192)
    assert hourly(new_cpu, new_memory) < hourly(4096, 8192)


def test_memory_bound_service_without_cheaper_fit_is_left_alone():
    # 1024/8192 at 85% memory needs > 8 GB, which only 2048+ CPU sizes offer: all dearer.
    result = judge(1024, 8192, flat(10), flat(85))
    assert result.findings == []


def test_already_minimal_size_is_not_flagged():
    result = judge(256, 512, flat(3), flat(5))
    assert result.findings == []
    assert result.skipped == []


CPU_STEPS = sorted({cpu for cpu, _ in valid_sizes()})


def _memory_choices() -> list[tuple[int, int]]:
    pairs = []
    for cpu in CPU_STEPS:
        memories = [memory for c, memory in valid_sizes() if c == cpu]
        pairs += [(cpu, memories[0]), (cpu, memories[-1])]
    return pairs


@pytest.mark.parametrize(("cpu", "memory"), _memory_choices())
def test_every_fargate_size_with_low_usage_gets_valid_cheaper_size_above_peak(cpu, memory):
    cpu_pct, memory_pct = 12.0, 18.0
    result = judge(cpu, memory, flat(cpu_pct), flat(memory_pct))
    assert result.skipped == []
    if (cpu, memory) == (256, 512):
        assert result.findings == []
        return
    assert len(result.findings) == 1
    finding = result.findings[0]
    new_cpu, new_memory = finding.recommended["cpu"], finding.recommended["memory"]
    assert is_valid_size(new_cpu, new_memory)
    assert hourly(new_cpu, new_memory) < hourly(cpu, memory)
    assert new_cpu >= cpu * cpu_pct / 100
    assert new_memory >= memory * memory_pct / 100 * 1.2
    assert finding.monthly_savings_usd == pytest.approx(
        (hourly(cpu, memory) - hourly(new_cpu, new_memory)) * 730)


def test_ec2_launch_type_is_skipped_as_not_applicable():
    result = judge(2048, 4096, flat(15), flat(20), launch_type="EC2")
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]
    assert "EC2" in result.skipped[0].detail


def test_service_scaled_to_zero_is_skipped():
    result = judge(2048, 4096, flat(15), flat(20), desired=0, running=0)
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]


def test_service_with_desired_zero_but_draining_tasks_is_skipped():
    result = judge(2048, 4096, flat(15), flat(20), desired=0, running=2)
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]


def test_task_definition_without_task_size_is_skipped():
    result = judge("", "", flat(15), flat(20))
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]


def test_headroom_setting_changes_memory_needed():
    # 2048/4096 at 24% memory: 983 MiB with 0% headroom fits 1 GB, 1180 MiB with 20% does not.
    tight = only_finding(judge(2048, 4096, flat(15), flat(24),
                               settings=Settings(headroom_percent=0)))
    roomy = only_finding(judge(2048, 4096, flat(15), flat(24)))
    assert tight.recommended["memory"] == 1024
    assert roomy.recommended["memory"] == 2048


def test_service_on_fargate_spot_is_priced_at_spot_rates():
    spot_only = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    finding = only_finding(judge(2048, 4096, flat(15), flat(20), launch_type=None,
                                 strategy=spot_only))
    new = pricing.fargate_hourly_usd(REGION, finding.recommended["cpu"],
                                     finding.recommended["memory"], spot=True)
    current = pricing.fargate_hourly_usd(REGION, 2048, 4096, spot=True)
    assert finding.monthly_savings_usd == pytest.approx((current - new) * 730)


def test_saved_and_reloaded_snapshot_gives_the_same_finding(tmp_path):
    from rightsizer.snapshot.store import Snapshot

    snap = SnapshotBuilder()
    snap.ecs_service("api", cpu=2048, memory=4096, desired=2)
    snap.ecs_usage("api", cpu_max=flat(15), memory_max=flat(20))
    built = snap.build()
    reloaded = Snapshot.load(built.save(tmp_path / "snap"))
    [before] = evaluate(built, DEFAULTS).findings
    [after] = evaluate(reloaded, DEFAULTS).findings
    assert after.recommended == before.recommended == {"cpu": 512, "memory": 1024}
    assert after.monthly_savings_usd == pytest.approx(before.monthly_savings_usd)
    assert after.evidence == before.evidence


# --- peak headroom, growth trend and the "never ask for more than today" cap -----------------

def test_cpu_peak_gets_peak_headroom():
    # p95 10% (one 24% hour a day is under 5% of hours): the peak binds, 491 units x 1.1 = 541.
    cpu = daily_spikes(base=10, spike=24)
    roomy = only_finding(judge(2048, 4096, cpu, flat(20)))
    tight = only_finding(judge(2048, 4096, cpu, flat(20),
                               settings=Settings(peak_headroom_percent=0)))
    assert roomy.evidence["cpu_needed_units"] == 541
    assert roomy.recommended == {"cpu": 1024, "memory": 2048}
    assert tight.recommended == {"cpu": 512, "memory": 1024}
    assert roomy.evidence["peak_headroom_percent"] == 10


def test_rising_daily_peaks_are_projected_a_month_ahead():
    # daily peaks climb 0.5 points a day, 10% -> 16.5%: in 30 days they reach 31.5%.
    cpu = 10 + 0.5 * (np.arange(HOURS) // 24)
    finding = only_finding(judge(4096, 8192, cpu, flat(20)))
    assert finding.evidence["cpu_daily_peak_trend_percent_per_day"] == pytest.approx(0.5)
    assert finding.evidence["cpu_projected_peak_percent"] == 31.5
    assert finding.evidence["cpu_needed_units"] == round(31.5 * 1.1 / 100 * 4096)
    assert finding.recommended["cpu"] == 2048
    assert "projected 30 days ahead" in finding.reason
    no_trend = only_finding(judge(4096, 8192, cpu, flat(20),
                                  settings=Settings(trend_horizon_days=0)))
    assert no_trend.recommended["cpu"] == 1024


def test_flat_and_falling_peaks_add_no_growth_allowance():
    finding = only_finding(judge(4096, 8192, 30 - 0.5 * (np.arange(HOURS) // 24), flat(20)))
    assert finding.evidence["cpu_daily_peak_trend_percent_per_day"] < 0
    assert finding.evidence["cpu_projected_peak_percent"] == finding.evidence["cpu_max_percent"]


def test_cpu_near_its_limit_keeps_its_cpu_and_sheds_memory():
    # A 94% CPU spike x 1.1 headroom is more than the task has: keep 2 vCPU, shrink memory.
    finding = only_finding(judge(2048, 8192, daily_spikes(base=10, spike=94), flat(20)))
    assert finding.recommended == {"cpu": 2048, "memory": 4096}


def test_trend_is_median_of_pairwise_slopes_and_ignores_one_busy_day():
    def daily_peak_trend_per_day(values: np.ndarray) -> float:
        """The trend ecs-rightsize reads: the bulk statistics of the service's CPU series."""
        snapshot = SnapshotBuilder().metric("AWS/ECS", "CPUUtilization", "edufly/svc",
                                            "Maximum", values).build()
        stats = snapshot.series_stats("AWS/ECS", "CPUUtilization", "Maximum")
        return float(stats.daily_peak_trend[stats.position(ACCOUNT, REGION, "edufly/svc")])
    assert daily_peak_trend_per_day(flat(20)) == 0.0
    one_busy_day = flat(20)
    one_busy_day[24 * 12:24 * 13] = 80
    assert daily_peak_trend_per_day(one_busy_day) == 0.0
    assert daily_peak_trend_per_day(flat(20, 96)) == 0.0


# --- autoscaling ------------------------------------------------------------------------------

CPU_70 = {"name": "cpu70", "type": "TargetTrackingScaling",
          "metric": "ECSServiceAverageCPUUtilization", "target_value": 70.0}
MEMORY_75 = {"name": "mem75", "type": "TargetTrackingScaling",
             "metric": "ECSServiceAverageMemoryUtilization", "target_value": 75.0}


def judge_scaled(cpu: int, memory: int, cpu_max, memory_max, *, running=None,
                 policies=(CPU_70, MEMORY_75), min_capacity: int = 2, max_capacity: int = 6,
                 desired: int = 3, settings: Settings = DEFAULTS):
    snap = SnapshotBuilder()
    snap.ecs_service("api", cpu=cpu, memory=memory, desired=desired)
    snap.ecs_usage("api", cpu_max=cpu_max, memory_max=memory_max)
    snap.autoscaling_target("api", min_capacity=min_capacity, max_capacity=max_capacity,
                            policies=list(policies))
    if running is not None:
        snap.ecs_running_tasks("api", running)
    return evaluate(snap.build(), settings)


def test_autoscaled_service_at_min_capacity_shrinks_under_the_target_and_counts_min_tasks():
    finding = only_finding(judge_scaled(2048, 4096, flat(20), flat(20), running=flat(2)))
    # target: 20% / 70% x 2048 = 585 units -> 1 vCPU; 20% / 75% x 4096 = 1092 MiB -> 2 GB
    assert finding.recommended == {"cpu": 1024, "memory": 2048}
    assert finding.evidence["cpu_needed_units"] == 585
    assert finding.evidence["memory_needed_mib"] == 1092
    assert finding.evidence["task_count"] == 2  # min capacity, not desired 3
    assert finding.monthly_savings_usd == pytest.approx(
        (hourly(2048, 4096) - hourly(1024, 2048)) * 730 * 2)
    evidence = finding.evidence
    assert evidence["autoscaling_min_capacity"] == 2
    assert evidence["autoscaling_max_capacity"] == 6
    assert evidence["autoscaling_cpu_target_percent"] == 70.0
    assert evidence["autoscaling_memory_target_percent"] == 75.0
    assert evidence["busy_hours_basis"] == "running-task-count"
    assert evidence["busiest_task_count"] == 2
    assert evidence["per_task_cpu_percent_on_recommended"] == 40.0
    assert evidence["desired_count"] == 3
    assert evidence["monthly_savings_at_max_capacity_usd"] == pytest.approx(
        (hourly(2048, 4096) - hourly(1024, 2048)) * 730 * 6, abs=0.01)
    # 2 tasks at 20% = 40% of one task, under 70%: one task would do
    assert evidence["min_capacity_alternative"] == 1
    assert evidence["min_capacity_alternative_monthly_savings_usd"] == pytest.approx(
        hourly(2048, 4096) * 730, abs=0.01)
    assert "min 2 / max 6" in finding.reason
    assert "CPU 70%" in finding.reason
    assert "lowering min capacity from 2 to 1" in finding.reason


def test_shrink_that_would_push_cpu_past_the_scaling_target_is_not_recommended():
    # Peak 40%: on half the CPU a task would run at 80%, above the 70% target, so autoscaling
    # would add tasks and eat the saving. Without the scaling target the halving is safe.
    cpu = daily_spikes(base=20, spike=40)
    assert judge_scaled(2048, 4096, cpu, flat(20), policies=[CPU_70]).findings == []
    assert only_finding(judge(2048, 4096, cpu, flat(20))).recommended["cpu"] == 1024


def test_busy_hours_come_from_the_running_task_count():
    # 2 tasks, 4 for two hours a day; at those hours CPU per task is 30%.
    cpu = daily_spikes(base=10, spike=30, spike_hours=2)
    running = daily_spikes(base=2, spike=4, spike_hours=2)
    finding = only_finding(judge_scaled(2048, 4096, cpu, flat(20), running=running))
    evidence = finding.evidence
    assert evidence["busy_hours_basis"] == "running-task-count"
    assert evidence["busiest_task_count"] == 4
    assert evidence["busy_hours"] == 28
    assert evidence["busy_cpu_max_percent"] == 30.0
    assert finding.recommended == {"cpu": 1024, "memory": 2048}
    assert "min_capacity_alternative" not in evidence  # it scales out: min is not idle slack
    assert "(4 tasks)" in finding.reason


def test_without_container_insights_busy_hours_are_the_peak_hours():
    cpu = daily_spikes(base=10, spike=30, spike_hours=3)
    finding = only_finding(judge_scaled(2048, 4096, cpu, flat(20)))
    assert finding.evidence["busy_hours_basis"] == "peak-hours"
    assert finding.evidence["busiest_task_count"] is None
    assert finding.evidence["busy_cpu_max_percent"] == 30.0
    assert "min_capacity_alternative" not in finding.evidence


def test_scaling_target_without_target_tracking_is_costed_at_min_capacity():
    step = {"name": "step", "type": "StepScaling", "metric": "", "target_value": None}
    finding = only_finding(judge_scaled(2048, 4096, flat(15), flat(20), policies=[step],
                                        min_capacity=1, desired=2))
    assert finding.recommended == {"cpu": 512, "memory": 1024}  # same as an unscaled service
    assert finding.evidence["task_count"] == 1
    assert finding.evidence["autoscaling_cpu_target_percent"] is None
    assert "no target-tracking policy" in finding.reason


def test_scaling_target_of_another_cluster_is_ignored():
    snap = SnapshotBuilder()
    snap.ecs_service("api", cpu=2048, memory=4096, desired=3)
    snap.ecs_usage("api", cpu_max=flat(15), memory_max=flat(20))
    snap.autoscaling_target("api", min_capacity=1, policies=[CPU_70], cluster="other")
    finding = only_finding(evaluate(snap.build(), DEFAULTS))
    assert finding.evidence["task_count"] == 3
    assert "autoscaling_min_capacity" not in finding.evidence
