"""The CPU/memory pairs Fargate accepts, and the cheapest one that fits a need.

Source: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
("Supported task CPU and memory values for tasks that are hosted on Fargate").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

_GIB = 1024


def _steps(start_gib: int, stop_gib: int, step_gib: int) -> list[int]:
    return [gib * _GIB for gib in range(start_gib, stop_gib + 1, step_gib)]


# cpu units (1024 = 1 vCPU) -> allowed memory in MiB
_MEMORY_BY_CPU: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: _steps(1, 4, 1),
    1024: _steps(2, 8, 1),
    2048: _steps(4, 16, 1),
    4096: _steps(8, 30, 1),
    8192: _steps(16, 60, 4),
    16384: _steps(32, 120, 8),
}


@lru_cache(maxsize=1)
def valid_sizes() -> tuple[tuple[int, int], ...]:
    """Every (cpu_units, memory_mib) pair Fargate accepts, smallest first."""
    return tuple(
        (cpu, memory) for cpu, memories in sorted(_MEMORY_BY_CPU.items()) for memory in memories
    )


def is_valid_size(cpu_units: int, memory_mib: int) -> bool:
    return memory_mib in _MEMORY_BY_CPU.get(cpu_units, [])


def cheapest_valid_size(
    cpu_units_needed: float,
    memory_mib_needed: float,
    hourly_cost: Callable[[int, int], float],
) -> tuple[int, int] | None:
    """The cheapest valid pair with at least the CPU and memory asked for (None if none is big
    enough). Cost decides between candidates, so a 512/1024 is never chosen over a cheaper
    256/2048 that also fits."""
    return first_fitting(sizes_by_cost(hourly_cost), cpu_units_needed, memory_mib_needed)


PricedSize = tuple[float, int, int]  # (hourly cost, cpu units, memory MiB)


def sizes_by_cost(hourly_cost: Callable[[int, int], float]) -> tuple[PricedSize, ...]:
    """Every valid pair with its cost, cheapest first (ties: fewer CPU units, less memory).
    Worth keeping per region and strategy: pricing 65 pairs per service was most of the
    ecs-rightsize rule's time."""
    return tuple(sorted((hourly_cost(cpu, memory), cpu, memory)
                        for cpu, memory in valid_sizes()))


def first_fitting(by_cost: tuple[PricedSize, ...], cpu_units_needed: float,
                  memory_mib_needed: float) -> tuple[int, int] | None:
    """The cheapest pair of `by_cost` with at least the CPU and memory asked for."""
    for _, cpu, memory in by_cost:
        if cpu >= cpu_units_needed and memory >= memory_mib_needed:
            return cpu, memory
    return None
