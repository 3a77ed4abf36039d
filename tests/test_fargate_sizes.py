"""fargate_sizes: the CPU/memory pairs AWS documents, and picking the cheapest that fits."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.support.fargate_sizes import cheapest_valid_size, is_valid_size, valid_sizes

GIB = 1024
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
DOCUMENTED = {
    256: [512, 1024, 2048],
    512: [g * GIB for g in range(1, 5)],
    1024: [g * GIB for g in range(2, 9)],
    2048: [g * GIB for g in range(4, 17)],
    4096: [g * GIB for g in range(8, 31)],
    8192: [g * GIB for g in range(16, 61, 4)],
    16384: [g * GIB for g in range(32, 121, 8)],
}


def test_valid_sizes_match_the_documented_table_exactly():
    expected = [(cpu, memory) for cpu, memories in DOCUMENTED.items() for memory in memories]
    assert list(valid_sizes()) == expected


@pytest.mark.parametrize(("cpu", "memory"), [
    (256, 512), (256, 2048), (512, 4096), (1024, 8192), (2048, 16384), (4096, 30720),
    (8192, 20480), (8192, 61440), (16384, 40960), (16384, 122880),
])
def test_documented_pairs_are_valid(cpu, memory):
    assert is_valid_size(cpu, memory)


@pytest.mark.parametrize(("cpu", "memory"), [
    (256, 3072), (512, 512), (512, 5120), (1024, 1024), (1024, 9216), (2048, 3072),
    (4096, 31744), (8192, 18432), (8192, 64 * GIB), (16384, 36 * GIB), (16384, 128 * GIB),
    (128, 512), (32768, 65536), (1000, 2048),
])
def test_undocumented_pairs_are_invalid(cpu, memory):
    assert not is_valid_size(cpu, memory)


def on_demand(cpu: int, memory: int) -> float:
    return pricing.fargate_hourly_usd("ap-south-1", cpu, memory)


def test_cheapest_valid_size_returns_none_when_nothing_fits():
    assert cheapest_valid_size(16385, 1024, on_demand) is None
    assert cheapest_valid_size(256, 120 * GIB + 1, on_demand) is None


def test_cheapest_valid_size_picks_the_cheapest_pair_that_fits():
    assert cheapest_valid_size(300, 900, on_demand) == (512, 1024)
    # 2 GB with a quarter vCPU is cheaper than 512/2048
    assert cheapest_valid_size(200, 1500, on_demand) == (256, 2048)
    assert cheapest_valid_size(16384, 120 * GIB, on_demand) == (16384, 120 * GIB)


def test_cheapest_valid_size_uses_the_cost_function_not_the_order():
    # a cost function that prefers more CPU flips the choice
    def odd_cost(cpu: int, memory: int) -> float:
        return 1 / cpu + memory / 1e9

    assert cheapest_valid_size(200, 500, odd_cost) == (16384, 32 * GIB)


def test_every_result_fits_the_need_and_is_valid():
    for cpu_need in (1, 255, 256, 257, 1500, 4097, 9000):
        for memory_need in (1, 513, 3000, 9000, 40000):
            best = cheapest_valid_size(cpu_need, memory_need, on_demand)
            if best is None:
                continue
            cpu, memory = best
            assert is_valid_size(cpu, memory)
            assert cpu >= cpu_need and memory >= memory_need
            cheaper = [pair for pair in valid_sizes()
                       if pair[0] >= cpu_need and pair[1] >= memory_need
                       and on_demand(*pair) < on_demand(cpu, memory)]
            assert cheaper == []
