"""The CPU/memory pairs Fargate accepts for each operating system, and the cheapest that fits.

Source: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
("Supported task CPU and memory values for tasks that are hosted on Fargate"), the same table as
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html, whose
third column names the operating systems: 0.25 and 0.5 vCPU are Linux only, 1, 2 and 4 vCPU are
Linux and Windows, 8 and 16 vCPU (Linux platform 1.4.0 or later) are Linux only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

_GIB = 1024

# Operating-system kinds and CPU architectures as this module (and pricing) name them.
LINUX = "LINUX"
WINDOWS = "WINDOWS"
X86_64 = "X86_64"
ARM64 = "ARM64"

# RuntimePlatform.operatingSystemFamily values that are Windows (the OSFamily enum of the ECS API:
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html). Fargate
# runs the 2019, 2022 and 2025 Server Core/Full editions; the older ones are EC2-only, but they are
# still Windows for sizing and pricing.
WINDOWS_FAMILIES = frozenset({
    "WINDOWS_SERVER_2019_FULL", "WINDOWS_SERVER_2019_CORE", "WINDOWS_SERVER_2022_FULL",
    "WINDOWS_SERVER_2022_CORE", "WINDOWS_SERVER_2025_FULL", "WINDOWS_SERVER_2025_CORE",
    "WINDOWS_SERVER_2016_FULL", "WINDOWS_SERVER_2004_CORE", "WINDOWS_SERVER_20H2_CORE",
})


def os_kind_of(operating_system_family: str) -> str | None:
    """LINUX or WINDOWS for a runtimePlatform.operatingSystemFamily; "" (absent) is LINUX, as
    ECS defaults it. None for a value the API does not define (the caller says which)."""
    family = operating_system_family.strip().upper()
    if family in ("", LINUX):
        return LINUX
    return WINDOWS if family in WINDOWS_FAMILIES else None


def architecture_of(cpu_architecture: str) -> str | None:
    """X86_64 or ARM64 for a runtimePlatform.cpuArchitecture ("" is X86_64, the default); None
    for anything else."""
    value = cpu_architecture.strip().upper()
    if value == "":
        return X86_64
    return value if value in (X86_64, ARM64) else None


def _steps(start_gib: int, stop_gib: int, step_gib: int) -> list[int]:
    return [gib * _GIB for gib in range(start_gib, stop_gib + 1, step_gib)]


# cpu units (1024 = 1 vCPU) -> allowed memory in MiB, for Linux tasks
_MEMORY_BY_CPU: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: _steps(1, 4, 1),
    1024: _steps(2, 8, 1),
    2048: _steps(4, 16, 1),
    4096: _steps(8, 30, 1),
    8192: _steps(16, 60, 4),
    16384: _steps(32, 120, 8),
}
# Windows on Fargate: 1, 2 and 4 vCPU only ("The CPU units cannot be less than 1 vCPU when you use
# Windows containers on Fargate", RegisterTaskDefinition; the task-size table marks 8 and 16 vCPU
# Linux-only), with the same memory ranges as Linux at those CPU values.
_WINDOWS_CPUS = (1024, 2048, 4096)
_TABLES: dict[str, dict[int, list[int]]] = {
    LINUX: _MEMORY_BY_CPU,
    WINDOWS: {cpu: _MEMORY_BY_CPU[cpu] for cpu in _WINDOWS_CPUS},
}


@lru_cache(maxsize=4)
def valid_sizes(os_kind: str = LINUX) -> tuple[tuple[int, int], ...]:
    """Every (cpu_units, memory_mib) pair Fargate accepts for the OS kind, smallest first."""
    return tuple(
        (cpu, memory) for cpu, memories in sorted(_TABLES[os_kind].items()) for memory in memories
    )


def is_valid_size(cpu_units: int, memory_mib: int, os_kind: str = LINUX) -> bool:
    return memory_mib in _TABLES.get(os_kind, {}).get(cpu_units, [])


def cheapest_valid_size(
    cpu_units_needed: float,
    memory_mib_needed: float,
    hourly_cost: Callable[[int, int], float],
    os_kind: str = LINUX,
) -> tuple[int, int] | None:
    """The cheapest valid pair with at least the CPU and memory asked for (None if none is big
    enough). Cost decides between candidates, so a 512/1024 is never chosen over a cheaper
    256/2048 that also fits."""
    return first_fitting(sizes_by_cost(hourly_cost, os_kind), cpu_units_needed, memory_mib_needed)


PricedSize = tuple[float, int, int]  # (hourly cost, cpu units, memory MiB)


def sizes_by_cost(hourly_cost: Callable[[int, int], float],
                  os_kind: str = LINUX) -> tuple[PricedSize, ...]:
    """Every valid pair for the OS with its cost, cheapest first (ties: fewer CPU units, less
    memory). Worth keeping per region, platform and strategy: pricing every pair again for
    each service dominated the ecs-rightsize rule (docs/benchmarks.md)."""
    return tuple(sorted((hourly_cost(cpu, memory), cpu, memory)
                        for cpu, memory in valid_sizes(os_kind)))


def first_fitting(by_cost: tuple[PricedSize, ...], cpu_units_needed: float,
                  memory_mib_needed: float) -> tuple[int, int] | None:
    """The cheapest pair of `by_cost` with at least the CPU and memory asked for."""
    for _, cpu, memory in by_cost:
        if cpu >= cpu_units_needed and memory >= memory_mib_needed:
            return cpu, memory
    return None
