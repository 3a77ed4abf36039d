"""The runtime platform is part of a task's size and price: Windows and ARM64 are sized on their
own task-size table and priced on their own rates, never Linux/x86's.

RuntimePlatform (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html):
operatingSystemFamily LINUX or a WINDOWS_SERVER_* edition, cpuArchitecture X86_64 or ARM64;
absent means LINUX / X86_64. Windows on Fargate runs 1, 2 and 4 vCPU
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html) and not
on Fargate Spot; FARGATE_SPOT runs ARM64 Linux tasks on platform version 1.4.0 or later
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html).
"""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules import ecs_autoscaling_missing, ecs_fargate_spot, ecs_rightsize
from rightsizer.rules.support.fargate_sizes import is_valid_size
from tests.ecs_rows import add_service
from tests.snapshot_factory import SnapshotBuilder, flat

US_EAST_1 = "us-east-1"  # where the embedded table has ARM64 and Windows figures
WINDOWS = "WINDOWS_SERVER_2022_CORE"


def snapshot(region: str = US_EAST_1, cpu_pct: float = 10, **service):
    snap = SnapshotBuilder()
    add_service(snap, "svc", region=region, **service)
    snap.ecs_usage("svc", cpu_max=flat(cpu_pct), memory_max=flat(12), region=region)
    return snap.build()


def rightsize(**service):
    return ecs_rightsize.evaluate(snapshot(**service), ecs_rightsize.Settings())


def spot(**service):
    return ecs_fargate_spot.evaluate(snapshot(**service), ecs_fargate_spot.Settings())


def only_skipped(result):
    assert result.findings == []
    [row] = result.skipped
    return row


def test_windows_service_is_priced_with_windows_rates_and_its_os_licence():
    """Windows Fargate bills vCPU, memory and an OS licence fee per vCPU-hour."""
    [finding] = rightsize(cpu=4096, memory=8192, os_family=WINDOWS, arch="X86_64",
                          desired=2).findings
    rates = pricing.fargate_platform_rates(US_EAST_1, os_kind="WINDOWS", arch="X86_64")
    assert rates is not None and rates.os_license is not None
    hourly = 4 * (rates.vcpu.usd + rates.os_license.usd) + 8 * rates.gb.usd
    assert finding.monthly_cost_usd == pytest.approx(hourly * 730 * 2)
    linux = pricing.fargate_hourly_usd(US_EAST_1, 4096, 8192)
    assert hourly > linux  # never Linux rates
    assert finding.evidence["price_os_license_vcpu_hour_usd"] == rates.os_license.usd
    assert "WINDOWS_SERVER_2022_CORE" in finding.reason


def test_windows_recommendation_stays_on_the_windows_size_table():
    """At 10% CPU a Linux task would go to 0.25 vCPU; Windows' smallest is 1 vCPU."""
    [finding] = rightsize(cpu=4096, memory=8192, os_family=WINDOWS).findings
    recommended = finding.recommended
    assert recommended["cpu"] >= 1024
    assert is_valid_size(recommended["cpu"], recommended["memory"], "WINDOWS")
    assert finding.evidence["os_family"] == WINDOWS


def test_windows_service_without_a_windows_price_in_its_region_is_skipped():
    row = only_skipped(rightsize(region="ap-south-1", cpu=2048, memory=4096,
                                 os_family="WINDOWS_SERVER_2019_FULL"))
    assert (row.reason, row.detail) == ("not-applicable",
                                        "no Windows Fargate price for ap-south-1")


def test_windows_task_below_one_vcpu_is_not_a_valid_current_size():
    row = only_skipped(rightsize(cpu=512, memory=1024, os_family=WINDOWS))
    assert row.reason == "not-applicable"
    assert "not a valid Fargate size for Windows" in row.detail


def test_windows_service_gets_no_fargate_spot_recommendation():
    row = only_skipped(spot(cpu=2048, memory=4096, os_family=WINDOWS))
    assert row.reason == "not-applicable"
    assert "Fargate Spot does not run Windows" in row.detail


def test_arm64_service_is_priced_with_arm64_rates():
    [finding] = rightsize(cpu=2048, memory=4096, arch="ARM64", desired=3).findings
    arm = pricing.fargate_hourly_usd(US_EAST_1, 2048, 4096, os_kind="LINUX", arch="ARM64")
    x86 = pricing.fargate_hourly_usd(US_EAST_1, 2048, 4096)
    assert arm is not None and x86 is not None and arm < x86
    assert finding.monthly_cost_usd == pytest.approx(arm * 730 * 3)
    assert finding.evidence["platform"] == "Linux/ARM64"


def test_arm64_service_without_an_arm64_price_in_its_region_is_skipped():
    row = only_skipped(rightsize(region="ap-south-1", arch="ARM64"))
    assert row.detail == "no Fargate Linux/ARM64 price for ap-south-1"
    assert only_skipped(spot(region="ap-south-1", arch="ARM64")).detail == \
        "no Fargate Linux/ARM64 price for ap-south-1"


def test_arm64_service_can_move_to_fargate_spot_at_arm64_spot_prices():
    [finding] = spot(arch="ARM64", platform_version="LATEST", desired=2).findings
    od = pricing.fargate_hourly_usd(US_EAST_1, 1024, 2048, os_kind="LINUX", arch="ARM64")
    sp = pricing.fargate_hourly_usd(US_EAST_1, 1024, 2048, os_kind="LINUX", arch="ARM64",
                                    spot=True)
    assert finding.monthly_savings_usd == pytest.approx((od - sp) * 730 * 2 * 0.8)


def test_arm64_service_pinned_below_platform_1_4_0_gets_no_spot_recommendation():
    row = only_skipped(spot(arch="ARM64", platform_version="1.3.0"))
    assert "1.4.0 or later" in row.detail


@pytest.mark.parametrize(("field", "value"), [("os_family", "WINDOWS_SERVER_2030_CORE"),
                                               ("arch", "RISCV64")])
def test_unknown_platform_value_gives_a_skipped_row_naming_it(field, value):
    for result in (rightsize(**{field: value}), spot(**{field: value})):
        row = only_skipped(result)
        assert row.reason == "not-applicable" and repr(value) in row.detail


def test_windows_on_arm64_is_not_a_fargate_platform():
    row = only_skipped(rightsize(os_family=WINDOWS, arch="ARM64"))
    assert "Windows on ARM64" in row.detail


@pytest.mark.parametrize(("cpu", "memory"), [(1024, 1024), (4096, 31 * 1024), (8192, 18432),
                                             (3072, 6144)])
def test_current_size_fargate_does_not_run_is_skipped(cpu, memory):
    """Fargate task sizes: 4 vCPU is 8-30 GB in 1 GB steps, 8 vCPU 16-60 GB in 4 GB steps."""
    row = only_skipped(rightsize(cpu=cpu, memory=memory))
    assert "not a valid Fargate size for Linux" in row.detail


def test_autoscaling_rule_prices_the_service_on_its_own_platform():
    """ecs-autoscaling-missing costs the tasks it would stop at the service's platform rates."""
    snap = SnapshotBuilder()
    add_service(snap, "svc", region=US_EAST_1, cpu=2048, memory=4096, arch="ARM64", desired=6)
    swing = [5.0 if hour % 24 < 12 else 60.0 for hour in range(14 * 24)]
    snap.ecs_cpu_max("svc", swing, region=US_EAST_1)
    [finding] = ecs_autoscaling_missing.evaluate(
        snap.build(), ecs_autoscaling_missing.Settings()).findings
    arm = pricing.fargate_hourly_usd(US_EAST_1, 2048, 4096, os_kind="LINUX", arch="ARM64")
    assert finding.evidence["task_hourly_usd"] == round(arm, 5)
