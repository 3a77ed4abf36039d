"""Fargate task sizes and prices per platform (rules/support/fargate_sizes.py, pricing/).

Task sizes: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
(the table's "Operating systems supported for AWS Fargate" column: 0.25 and 0.5 vCPU Linux,
1, 2 and 4 vCPU Linux and Windows, 8 and 16 vCPU Linux) and RegisterTaskDefinition ("The CPU
units cannot be less than 1 vCPU when you use Windows containers on Fargate").
Prices: https://aws.amazon.com/fargate/pricing/ (Linux/x86, Linux/ARM, Windows/x86 priced
apart; Windows adds an OS licence fee per vCPU-hour; Spot not for Windows).
"""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.support.fargate_sizes import (
    architecture_of,
    cheapest_valid_size,
    is_valid_size,
    os_kind_of,
    valid_sizes,
)

GIB = 1024


def test_windows_sizes_are_the_linux_memory_ranges_at_1_2_and_4_vcpu_only():
    linux = set(valid_sizes("LINUX"))
    windows = set(valid_sizes("WINDOWS"))
    assert {cpu for cpu, _ in windows} == {1024, 2048, 4096}
    assert windows == {(cpu, memory) for cpu, memory in linux if cpu in (1024, 2048, 4096)}
    assert len(windows) == 7 + 13 + 23


@pytest.mark.parametrize(("cpu", "memory", "linux", "windows"), [
    (256, 512, True, False), (512, 4096, True, False), (1024, 2048, True, True),
    (2048, 16 * GIB, True, True), (4096, 30 * GIB, True, True), (4096, 31 * GIB, False, False),
    (8192, 16 * GIB, True, False), (8192, 18 * GIB, False, False), (8192, 60 * GIB, True, False),
    (16384, 120 * GIB, True, False), (16384, 36 * GIB, False, False),
])
def test_documented_pairs_per_operating_system(cpu, memory, linux, windows):
    assert is_valid_size(cpu, memory, "LINUX") is linux
    assert is_valid_size(cpu, memory, "WINDOWS") is windows


def test_cheapest_windows_size_is_never_below_one_vcpu():
    def cost(cpu: int, memory: int) -> float:
        return cpu + memory / 10
    assert cheapest_valid_size(100, 500, cost, "WINDOWS") == (1024, 2048)
    assert cheapest_valid_size(100, 500, cost) == (256, 512)
    assert cheapest_valid_size(8192, 16 * GIB, cost, "WINDOWS") is None


@pytest.mark.parametrize(("family", "kind"), [
    ("", "LINUX"), ("LINUX", "LINUX"), ("WINDOWS_SERVER_2019_FULL", "WINDOWS"),
    ("WINDOWS_SERVER_2019_CORE", "WINDOWS"), ("WINDOWS_SERVER_2022_FULL", "WINDOWS"),
    ("WINDOWS_SERVER_2022_CORE", "WINDOWS"), ("WINDOWS_SERVER_2025_CORE", "WINDOWS"),
    ("WINDOWS_SERVER_2025_FULL", "WINDOWS"), ("WINDOWS_SERVER_2030_CORE", None),
    ("MACOS", None),
])
def test_operating_system_families_of_the_runtime_platform(family, kind):
    """OSFamily values of the ECS API; absent is LINUX; anything else is unknown (None)."""
    assert os_kind_of(family) == kind


@pytest.mark.parametrize(("value", "arch"), [("", "X86_64"), ("X86_64", "X86_64"),
                                              ("ARM64", "ARM64"), ("arm64", "ARM64"),
                                              ("RISCV64", None)])
def test_cpu_architectures_of_the_runtime_platform(value, arch):
    assert architecture_of(value) == arch


def test_arm64_is_cheaper_than_x86_where_both_are_priced():
    arm = pricing.fargate_platform_rates("us-east-1", os_kind="LINUX", arch="ARM64")
    x86 = pricing.fargate_platform_rates("us-east-1")
    assert arm is not None and x86 is not None
    assert arm.vcpu.usd < x86.vcpu.usd and arm.gb.usd < x86.gb.usd
    assert arm.os_license is None


def test_windows_rates_include_the_os_licence_per_vcpu():
    rates = pricing.fargate_platform_rates("us-east-1", os_kind="WINDOWS", arch="X86_64")
    assert rates is not None and rates.os_license is not None
    assert rates.hourly(2048, 4096) == pytest.approx(
        2 * rates.vcpu.usd + 4 * rates.gb.usd + 2 * rates.os_license.usd)
    assert rates.vcpu.as_of and rates.vcpu.source


def test_platforms_without_a_sourced_figure_return_none_never_linux_rates():
    assert pricing.fargate_hourly_usd("ap-south-1", 1024, 2048) is not None  # Linux/x86 is
    assert pricing.fargate_hourly_usd("ap-south-1", 1024, 2048, os_kind="WINDOWS") is None
    assert pricing.fargate_hourly_usd("ap-south-1", 1024, 2048, os_kind="LINUX",
                                      arch="ARM64") is None
    assert pricing.fargate_hourly_usd("us-east-1", 1024, 2048, os_kind="WINDOWS",
                                      arch="ARM64") is None
    assert pricing.fargate_hourly_usd("us-east-1", 1024, 2048, os_kind="SOLARIS") is None


def test_windows_has_no_spot_price_and_arm64_spot_is_derived_from_arm64():
    assert pricing.fargate_hourly_usd("us-east-1", 1024, 2048, os_kind="WINDOWS",
                                      spot=True) is None
    arm = pricing.fargate_platform_rates("us-east-1", os_kind="LINUX", arch="ARM64")
    arm_spot = pricing.fargate_platform_rates("us-east-1", os_kind="LINUX", arch="ARM64",
                                              spot=True)
    assert arm is not None and arm_spot is not None
    assert arm_spot.vcpu.usd == pytest.approx(arm.vcpu.usd * 0.3)
    assert arm_spot.vcpu.source.startswith("DERIVED")
    # not the x86 Spot figure observed for us-east-1
    x86_spot = pricing.fargate_platform_rates("us-east-1", spot=True)
    assert x86_spot is not None and arm_spot.vcpu.usd != x86_spot.vcpu.usd


def test_linux_x86_lookups_are_unchanged():
    assert pricing.fargate_hourly_usd("us-east-1", 1024, 2048) == pytest.approx(
        0.04048 + 2 * 0.004445)
    rates = pricing.fargate_rates("us-east-1")
    platform = pricing.fargate_platform_rates("us-east-1")
    assert rates is not None and platform is not None
    assert (platform.vcpu, platform.gb) == rates
