"""Judging recommendations against the window that came after the training window."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchmarks.accuracy.strategies import Size, cheapest_covering, hourly_usd
from benchmarks.accuracy.traces import Trace
from rightsizer.pricing import HOURS_PER_MONTH


def monthly_usd(trace: Trace, size: Size) -> float:
    return hourly_usd(*size) * HOURS_PER_MONTH * trace.task_count


# A peak that reaches this share of a size counts as not held: an hourly Maximum is the highest
# 1-minute average of the hour, so a minute at 95% of the task had seconds at its limit.
SAFE_SHARE = 0.95


def _holding(trace: Trace, cpu_peak_units: float, memory_peak_mib: float) -> Size:
    """The cheapest valid size that keeps both peaks under SAFE_SHARE of it, a dimension already
    at or past that share kept at today's size (not shrinking it is no harm done here)."""
    def need(peak: float, current: int) -> float:
        return min(float(current), np.nextafter(peak / SAFE_SHARE, np.inf))
    size = cheapest_covering(need(cpu_peak_units, trace.cpu_units),
                             need(memory_peak_mib, trace.memory_mib))
    return size or (trace.cpu_units, trace.memory_mib)


def ideal_size(trace: Trace) -> Size:
    """The cheapest valid size that holds the judge window's CPU and memory peaks with nothing
    to spare (under SAFE_SHARE of it): the best any strategy could have done with
    hindsight."""
    return _holding(trace, trace.judge_cpu_peak_units, trace.judge_memory_peak_mib)


def promised_size(trace: Trace) -> Size:
    """The cheapest valid size that holds the judge window's peaks and the shown history's:
    the best a tool can do that keeps its promise (never a downsize that would have throttled
    or OOM-killed the peak it was shown), still with hindsight and zero margin."""
    return _holding(trace, max(trace.judge_cpu_peak_units, trace.train_cpu_peak_units),
                    max(trace.judge_memory_peak_mib, trace.train_memory_peak_mib))


def ideal_savings_usd(trace: Trace) -> float:
    return _savings_to(trace, ideal_size(trace))


def promised_savings_usd(trace: Trace) -> float:
    return _savings_to(trace, promised_size(trace))


def _savings_to(trace: Trace, size: Size) -> float:
    current = monthly_usd(trace, (trace.cpu_units, trace.memory_mib))
    return max(0.0, current - monthly_usd(trace, size))


def is_unsafe(trace: Trace, size: Size) -> bool:
    """A dimension the recommendation shrinks whose next-window peak reaches SAFE_SHARE of the
    new size: CPU units (throttling) or MiB (OOM kills)."""
    cpu, memory = size
    return (cpu < trace.cpu_units and trace.judge_cpu_peak_units >= SAFE_SHARE * cpu) or \
        (memory < trace.memory_mib and trace.judge_memory_peak_mib >= SAFE_SHARE * memory)


@dataclass
class Score:
    recommendations: int = 0
    unsafe: int = 0
    unsafe_unforeseeable: int = 0  # exam week only in the judge window
    captured_usd: float = 0.0
    ideal_usd: float = 0.0
    captured_promised_usd: float = 0.0  # captured, each capped at its promised ideal
    promised_usd: float = 0.0
    unsafe_names: list[str] = field(default_factory=list)

    @property
    def unsafe_foreseeable(self) -> int:
        return self.unsafe - self.unsafe_unforeseeable

    @property
    def share(self) -> float:
        return self.captured_usd / self.ideal_usd if self.ideal_usd else 0.0

    @property
    def share_of_promised(self) -> float:
        return self.captured_promised_usd / self.promised_usd if self.promised_usd else 0.0


def score(traces: list[Trace], recommendations: dict[str, Size]) -> Score:
    result = Score()
    for trace in traces:
        ideal, promised = ideal_savings_usd(trace), promised_savings_usd(trace)
        result.ideal_usd += ideal
        result.promised_usd += promised
        size = recommendations.get(trace.name)
        if size is None:
            continue
        result.recommendations += 1
        if is_unsafe(trace, size):
            result.unsafe += 1
            result.unsafe_unforeseeable += trace.unforeseeable
            result.unsafe_names.append(trace.name)
            continue
        savings = monthly_usd(trace, (trace.cpu_units, trace.memory_mib)) - monthly_usd(trace,
                                                                                         size)
        result.captured_usd += min(max(savings, 0.0), ideal)
        result.captured_promised_usd += min(max(savings, 0.0), promised)
    return result
