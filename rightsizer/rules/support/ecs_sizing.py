"""How ecs-rightsize sizes one service from its history, and the margins its backtest gives.

The sizing of one dimension (CPU or memory), in percent of today's task size:
- CPU: max(p<percentile> x (1 + headroom), last year's season x (1 + headroom),
  trend-projected peak x (1 + CPU margin));
- memory: max(last year's season x (1 + headroom), trend-projected peak x (1 + memory margin)).
The margins are what the service's own backtest asks for (rules/support/backtest.py), or, with
too little history to replay (or `backtest = false`), the fixed ones: `peak_headroom_percent`
for CPU and `headroom_percent` for memory, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from rightsizer.rules.support import year_ago
from rightsizer.rules.support.backtest import SAFE_SHARE, Backtest, Sizing, Usage, backtest
from rightsizer.rules.support.year_ago import SeasonalPeak

# Under this many past fortnights a backtest is too thin to go below the fixed margins.
MIN_FORTNIGHTS = 3


class SizingSettings(Protocol):
    percentile: float
    headroom_percent: float
    peak_headroom_percent: float
    trend_horizon_days: float
    year_ago: bool
    backtest: bool
    min_margin_percent: float
    max_margin_percent: float


@dataclass(frozen=True)
class YearAgo:
    """A service's daily Maximum a year back (stamps in ns, values), CPU and memory."""

    cpu: tuple[np.ndarray, np.ndarray] | None
    memory: tuple[np.ndarray, np.ndarray] | None


@dataclass(frozen=True)
class Plan:
    """One service's sizing inputs over a stretch of its history, before any margin."""

    cpu: Sizing
    memory: Sizing
    cpu_percentile: float
    cpu_peak: float
    memory_peak: float
    cpu_trend: float
    memory_trend: float
    seasons: dict[str, SeasonalPeak]

    @property
    def seasonal(self) -> dict[str, SeasonalPeak]:
        """The seasons sized for: last year's peak at today's level above this stretch's."""
        peaks = {"CPU": self.cpu_peak, "memory": self.memory_peak}
        return {name: season for name, season in self.seasons.items()
                if season.projected_percent > peaks[name]}

    @property
    def cpu_projected(self) -> float:
        return self.cpu.peak

    @property
    def memory_projected(self) -> float:
        return self.memory.peak


def plan(settings: SizingSettings, cpu: Usage, memory: Usage, then: YearAgo | None,
         history_start: datetime, end: datetime, *, backtested: bool = False) -> Plan:
    """The sizing of the data in `cpu` / `memory` (all of it lies before `end`). `backtested`:
    the margins come from a backtest, which replaces the fixed CPU headroom on p<percentile>
    and keeps the peaks under SAFE_SHARE of the new size."""
    horizon = settings.trend_horizon_days
    headroom = 1 + settings.headroom_percent / 100
    # Growth: a recommendation lives until the next monthly run, so a steady climb of the
    # daily peaks is projected that far ahead (never downwards: a falling trend may reverse).
    cpu_trend, memory_trend = cpu.daily_peak_trend, memory.daily_peak_trend
    cpu_peak, memory_peak = cpu.peak, memory.peak
    cpu_projected = min(100.0, cpu_peak + max(0.0, cpu_trend) * horizon)
    memory_projected = min(100.0, memory_peak + max(0.0, memory_trend) * horizon)
    seasons = _seasons(then, cpu, memory, history_start, end) if settings.year_ago and \
        then is not None else {}
    # A season the history cannot see (exams, a yearly peak): last year's seasonal peak at
    # today's level, where above this stretch's peak, is sized for with the full headroom: a
    # projection from another year, not an observation.
    season = {name: found.projected_percent for name, found in seasons.items()
              if found.projected_percent > {"CPU": cpu_peak, "memory": memory_peak}[name]}
    cpu_p = cpu.percentile(settings.percentile)
    share = SAFE_SHARE if backtested else 1.0
    cpu_fixed = season.get("CPU", 0.0) * headroom
    if not backtested:  # the fixed need + headroom; the backtest tests the peak itself
        cpu_fixed = max(cpu_fixed, cpu_p * headroom)
    return Plan(
        cpu=Sizing(fixed=cpu_fixed, peak=cpu_projected, share=share),
        memory=Sizing(fixed=season.get("memory", 0.0) * headroom, peak=memory_projected,
                      share=share),
        cpu_percentile=cpu_p, cpu_peak=cpu_peak, memory_peak=memory_peak, cpu_trend=cpu_trend,
        memory_trend=memory_trend, seasons=seasons)


def _seasons(then: YearAgo, cpu: Usage, memory: Usage, history_start: datetime,
             end: datetime) -> dict[str, SeasonalPeak]:
    """Last year's seasonal rise by dimension, from the year-ago days up to `end`'s counterpart
    plus year_ago.AHEAD_DAYS (what a sizing at `end` could have read)."""
    limit = _ns(end - year_ago.YEAR + timedelta(days=year_ago.AHEAD_DAYS))
    found: dict[str, SeasonalPeak] = {}
    for name, past, now in (("CPU", then.cpu, cpu), ("memory", then.memory, memory)):
        if past is None or now.empty:
            continue
        stamps, values = past
        keep = stamps < limit
        peak = year_ago.seasonal_peak(stamps[keep], values[keep], history_start, end,
                                      now.daily[1])
        if peak is not None:
            found[name] = peak
    return found


@dataclass(frozen=True)
class Margins:
    """The margins added to the projected peaks, and where they come from."""

    cpu_percent: float
    memory_percent: float
    basis: str  # "backtest" | "fixed" (too little history) | "off" (backtest = false)
    tested: Backtest
    # why the service is not downsized: its own history shows the sizing failing
    failed: str | None = None

    def summary(self) -> str:
        """"held in 5 of 5 past fortnights at +8% CPU / +3% memory"."""
        n = self.tested.fortnights
        if self.basis != "backtest":
            reason = "backtest off" if self.basis == "off" else (
                f"{n} past fortnight{'s' if n != 1 else ''} to backtest, under "
                f"{MIN_FORTNIGHTS}" if n else "no past fortnight to backtest")
            return (f"fixed margins +{self.cpu_percent:g}% CPU / +{self.memory_percent:g}% "
                    f"memory ({reason})")
        held = min(self.tested.held("cpu", self.cpu_percent),
                   self.tested.held("memory", self.memory_percent))
        return (f"held in {held} of {n} past fortnights at +{self.cpu_percent:.0f}% CPU / "
                f"+{self.memory_percent:.0f}% memory")


def margins(settings: SizingSettings, cpu: Usage, memory: Usage, then: YearAgo | None,
            history_start: datetime, end: datetime, period_seconds: int) -> Margins:
    """Replay the sizing at every past week of the service's history and take the smallest
    margins that held in every past fortnight (never below min_margin_percent)."""
    fixed_cpu, fixed_memory = settings.peak_headroom_percent, settings.headroom_percent
    if not settings.backtest:
        return Margins(fixed_cpu, fixed_memory, "off", Backtest(()))

    def sizing_at(cpu_before: Usage, memory_before: Usage, at_ns: int) -> tuple[Sizing, Sizing]:
        at = datetime.fromtimestamp(at_ns / 1e9, tz=end.tzinfo)
        replayed = plan(settings, cpu_before, memory_before, then, history_start, at,
                        backtested=True)
        return replayed.cpu, replayed.memory

    tested = backtest(cpu, memory, _ns(end), period_seconds * 10**9, sizing_at)
    if tested.fortnights < MIN_FORTNIGHTS:
        # too few replays to trust below the fixed margins; any that failed still count
        return Margins(max(fixed_cpu, tested.needed("cpu")),
                       max(fixed_memory, tested.needed("memory")), "fixed", tested,
                       _failure(settings, tested))
    floor = settings.min_margin_percent
    return Margins(max(floor, tested.needed("cpu")), max(floor, tested.needed("memory")),
                   "backtest", tested, _failure(settings, tested))


def _failure(settings: SizingSettings, tested: Backtest) -> str | None:
    ceiling = settings.max_margin_percent
    parts = []
    for name in ("cpu", "memory"):
        needed = tested.needed(name)
        if needed > ceiling:
            failed = tested.fortnights - tested.held(name, ceiling)
            label = "CPU" if name == "cpu" else "memory"
            worst = "more than double" if needed > 100 else f"+{needed:.0f}%"
            parts.append(f"{label} needed {worst} in {failed} of {tested.fortnights} past "
                         f"fortnights")
    if not parts:
        return None
    return (f"backtest on its own history: sized from the weeks before, the fortnight after "
            f"outgrew the sizing ({'; '.join(parts)}), beyond the largest margin allowed "
            f"(max_margin_percent = {ceiling:g}); not downsized")


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9
