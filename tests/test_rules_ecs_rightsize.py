"""ecs-rightsize: which Fargate services are downsized, to what, and which are left alone."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer import pricing
from rightsizer.fargate_sizes import is_valid_size, valid_sizes
from rightsizer.rules.ecs_rightsize import Settings, evaluate
from tests.snapshot_factory import HOURS, REGION, SnapshotBuilder, daily_spikes, flat

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
    # CPU is idle, memory spikes to 90% daily: CPU may shrink, memory must hold 90% x 1.2.
    finding = only_finding(judge(1024, 2048, flat(10), daily_spikes(base=15, spike=90)))
    assert finding.evidence["memory_max_percent"] == 90.0
    assert finding.recommended["cpu"] < 1024
    assert finding.recommended["memory"] >= 2048 * 0.9 * 1.2
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
    assert new_memory >= 8192 * 0.85 * 1.2
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
    from rightsizer.snapshot import Snapshot

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
