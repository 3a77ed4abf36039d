"""What the two under-provisioned rules share: their thresholds, and reading CPU saturation and
memory pressure off the hourly series (ecs-underprovisioned, rds-underprovisioned)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import Field

from rightsizer.rules.base import RuleSettings
from rightsizer.rules.findings import Severity
from rightsizer.rules.support.series import rounded, share_at_or_above
from rightsizer.snapshot.series import OneSeries


class PressureSettings(RuleSettings):
    cpu_saturated_percent: float = Field(
        95, gt=0, le=100,
        description="An hour whose CPU Maximum is at or above this share of the CPU it has "
        "counts as saturated (it used all it was given: demand above it never shows).",
    )
    min_saturated_share: float = Field(
        0.1, gt=0, le=1,
        description="Flag it when at least this share of its hours with a CPU datapoint are "
        "saturated.",
    )
    memory_peak_percent: float = Field(
        90, gt=0, le=100,
        description="Flag it when its memory in use peaks above this share of its memory (a "
        "task over its memory limit is killed; a database out of memory swaps to disk).",
    )
    headroom_percent: float = Field(
        20, ge=0, le=200,
        description="The fix holds the memory peak (or, for saturated CPU, today's CPU) plus "
        "this margin.",
    )
    high_severity_saturated_share: float = Field(
        0.25, gt=0, le=1,
        description="Severity high (else medium) from this share of saturated hours.",
    )
    high_severity_memory_percent: float = Field(
        97, gt=0, le=200,
        description="Severity high (else medium) from a memory peak at or above this.",
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window that must have datapoints to judge a metric.",
    )


@dataclass(frozen=True)
class Pressure:
    """One resource's CPU and memory over the window, against the settings."""

    cpu: OneSeries
    memory: OneSeries
    expected: int  # hourly datapoints a full window has
    cpu_judged: bool
    memory_judged: bool
    saturated_share: float  # of the hours with a CPU datapoint; 0 when CPU is not judged
    memory_percent: float  # peak memory in use, % of what it has; nan when not judged
    cpu_risk: bool
    memory_risk: bool

    @property
    def at_risk(self) -> bool:
        return self.cpu_risk or self.memory_risk

    def severity(self, settings: PressureSettings) -> Severity:
        high = ((self.cpu_risk and self.saturated_share >= settings.high_severity_saturated_share)
                or (self.memory_risk
                    and self.memory_percent >= settings.high_severity_memory_percent))
        return "high" if high else "medium"

    def not_judged(self) -> str:
        """The reason's note on a metric with too few datapoints to judge ("" when both are)."""
        text = ""
        if not self.memory_judged:
            text += (f"; memory not judged ({self.memory.count} of {self.expected} hourly "
                     "datapoints)")
        if not self.cpu_judged:
            text += f"; CPU not judged ({self.cpu.count} of {self.expected} hourly datapoints)"
        return text

    def evidence(self, settings: PressureSettings) -> dict[str, object]:
        return {
            "cpu_saturated_share": round(self.saturated_share, 3) if self.cpu_judged else None,
            "cpu_saturated_percent": settings.cpu_saturated_percent,
            "min_saturated_share": settings.min_saturated_share,
            "cpu_max_percent": rounded(self.cpu.maximum) if self.cpu.count else None,
            "memory_peak_percent": settings.memory_peak_percent,
            "headroom_percent": settings.headroom_percent,
            "cpu_coverage": round(self.cpu.coverage(self.expected), 3),
            "memory_coverage": round(self.memory.coverage(self.expected), 3),
        }


def measure(cpu: OneSeries, memory: OneSeries, expected: int, settings: PressureSettings,
            memory_percent: float) -> Pressure | None:
    """The pressure on a resource; None when neither metric has the coverage to judge.
    `memory_percent` is the peak memory in use as a share of the memory the resource has,
    read from `memory` the way its service reports memory."""
    cpu_judged = cpu.coverage(expected) >= settings.min_coverage
    memory_judged = memory.coverage(expected) >= settings.min_coverage
    if not cpu_judged and not memory_judged:
        return None
    share = share_at_or_above(cpu, settings.cpu_saturated_percent) if cpu_judged else 0.0
    percent = memory_percent if memory_judged else math.nan
    return Pressure(cpu, memory, expected, cpu_judged, memory_judged, share, percent,
                    cpu_risk=cpu_judged and share >= settings.min_saturated_share,
                    memory_risk=memory_judged and percent > settings.memory_peak_percent)


def not_enough_data(cpu: OneSeries, memory: OneSeries, expected: int,
                    settings: PressureSettings, memory_label: str) -> str:
    return (f"CPU {cpu.count} and {memory_label} {memory.count} of {expected} hourly "
            f"datapoints; needs {settings.min_coverage:.0%} of the window")
