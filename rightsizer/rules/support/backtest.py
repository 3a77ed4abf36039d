"""Backtesting a sizing on the service's own past: the margin its own history asks for.

One fixed margin for every service is too much for a flat one and too little for a noisy one.
So the sizing is replayed on the service's own history: at each past week, size from the data
before it and look at the fortnight after it. The margin a service gets is the smallest that
would have held in every one of its past fortnights (never below a floor); a service whose own
past shows the sizing failing even at the largest margin allowed is not downsized.

"Held" keeps the fortnight's peak under SAFE_SHARE of the sized capacity: an hourly Maximum is
the highest 1-minute average of the hour, so a peak reaching 95% of the task has seconds at
its limit inside that minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

DAY_NS = 86_400 * 10**9
STEP_DAYS = 7  # one replay a week
AHEAD_DAYS = 14  # each replay is checked against the fortnight after it
MIN_PAST_DAYS = 14  # a replay sizes from at least two weeks of data
SAFE_SHARE = 0.95
MIN_TREND_DAYS = 7  # under a week of days, growth cannot be told from the weekly cycle
# Half the fortnight's hours must have a datapoint for it to count as a check.
MIN_AHEAD_SHARE = 0.5


@dataclass(frozen=True)
class Usage:
    """One dimension's hourly Maximum (percent of the task size), valid datapoints only, oldest
    first."""

    stamps_ns: np.ndarray
    values: np.ndarray

    @classmethod
    def joined(cls, *parts: tuple[np.ndarray, np.ndarray]) -> Usage:
        """Parts in time order (the history before the window, then the window)."""
        stamps = np.concatenate([np.asarray(s, dtype=np.int64) for s, _ in parts])
        values = np.concatenate([np.asarray(v, dtype=float) for _, v in parts])
        keep = ~np.isnan(values)
        return cls(stamps[keep], values[keep])

    def since(self, start_ns: int) -> Usage:
        keep = self.stamps_ns >= start_ns
        return self if keep.all() else Usage(self.stamps_ns[keep], self.values[keep])

    def _upto(self, end_ns: int) -> int:
        return int(np.searchsorted(self.stamps_ns, end_ns))

    def before(self, end_ns: int) -> Usage:
        at = self._upto(end_ns)
        return Usage(self.stamps_ns[:at], self.values[:at])

    def between(self, start_ns: int, end_ns: int) -> Usage:
        lo, hi = self._upto(start_ns), self._upto(end_ns)
        return Usage(self.stamps_ns[lo:hi], self.values[lo:hi])

    @property
    def empty(self) -> bool:
        return not len(self.values)

    @property
    def first_ns(self) -> int:
        return int(self.stamps_ns[0])

    @property
    def peak(self) -> float:
        return float(self.values.max()) if len(self.values) else float("nan")

    @property
    def median(self) -> float:
        return float(np.median(self.values)) if len(self.values) else float("nan")

    def percentile(self, percent: float) -> float:
        """The "higher" method, as the bulk series statistics."""
        if not len(self.values):
            return float("nan")
        return float(np.quantile(self.values, percent / 100.0, method="higher"))

    @cached_property
    def daily(self) -> tuple[np.ndarray, np.ndarray]:
        """(UTC day numbers, each day's highest value)."""
        if not len(self.values):
            return np.array([], dtype=np.int64), np.array([])
        days = self.stamps_ns // DAY_NS
        starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
        return days[starts], np.maximum.reduceat(self.values, starts)

    @cached_property
    def daily_peak_trend(self) -> float:
        """Theil-Sen slope of the daily peaks (percent a day), 0.0 under a week of days: the
        same figure as SeriesStats.daily_peak_trend."""
        days, peaks = self.daily
        if len(days) < MIN_TREND_DAYS:
            return 0.0
        first, second = np.triu_indices(len(days), k=1)
        return float(np.median((peaks[second] - peaks[first]) /
                               (days[second] - days[first]).astype(float)))


@dataclass(frozen=True)
class Sizing:
    """What the rule sizes one dimension for, in percent of today's size: `fixed` is the part
    that carries its own fixed headroom (last year's season x headroom; with fixed margins also
    CPU p<percentile> x headroom), `peak` the trend-projected peak that the margin is added to,
    and the capacity keeps it under `share` of the size (SAFE_SHARE with a backtest; 1 with
    the fixed margins, as before backtesting)."""

    fixed: float
    peak: float
    share: float = 1.0

    def need(self, margin_percent: float) -> float:
        return max(self.fixed, self.peak / self.share * (1 + margin_percent / 100))

    def margin_to_hold(self, peak_after: float) -> float:
        """The smallest margin (percent) with which the sizing would have held `peak_after`:
        how far it rose above the projected peak (0 when it did not, or when the fixed part
        already kept it under SAFE_SHARE)."""
        if self.fixed * SAFE_SHARE > peak_after:
            return 0.0
        if self.peak <= 0:
            return float("inf")
        return max(0.0, (peak_after / self.peak - 1) * 100)


@dataclass(frozen=True)
class Replay:
    """One past week: sized from the data before `at_ns`, checked on the fortnight after."""

    at_ns: int
    cpu_margin: float  # the margin this fortnight needed, percent
    memory_margin: float
    cpu_peak_after: float
    memory_peak_after: float


@dataclass(frozen=True)
class Backtest:
    replays: tuple[Replay, ...]

    @property
    def fortnights(self) -> int:
        return len(self.replays)

    def needed(self, dimension: str) -> float:
        """The smallest margin that held in every past fortnight (0 with none)."""
        values = [getattr(replay, f"{dimension}_margin") for replay in self.replays]
        return max(values, default=0.0)

    def held(self, dimension: str, margin_percent: float) -> int:
        """How many past fortnights `margin_percent` held on that dimension."""
        return sum(getattr(replay, f"{dimension}_margin") <= margin_percent + 1e-9
                   for replay in self.replays)


SizingAt = Callable[[Usage, Usage, int], tuple[Sizing, Sizing]]


def replay_weeks(first_ns: int, end_ns: int) -> list[int]:
    """The past weeks to replay at, newest first: every STEP_DAYS back from a fortnight before
    the end, as long as MIN_PAST_DAYS of data lie before it."""
    weeks = []
    at = end_ns - AHEAD_DAYS * DAY_NS
    while at - first_ns >= MIN_PAST_DAYS * DAY_NS:
        weeks.append(at)
        at -= STEP_DAYS * DAY_NS
    return weeks


def backtest(cpu: Usage, memory: Usage, end_ns: int, period_ns: int,
             sizing_at: SizingAt) -> Backtest:
    """Replay `sizing_at` (the rule's own sizing, from the data before a moment) at every past
    week of the service's history, and record the margin each fortnight after needed."""
    if cpu.empty or memory.empty:
        return Backtest(())
    first = max(cpu.first_ns, memory.first_ns)
    expected = AHEAD_DAYS * DAY_NS // max(1, period_ns)
    replays = []
    for at in replay_weeks(first, end_ns):
        cpu_after = cpu.between(at, at + AHEAD_DAYS * DAY_NS)
        memory_after = memory.between(at, at + AHEAD_DAYS * DAY_NS)
        if min(len(cpu_after.values), len(memory_after.values)) < MIN_AHEAD_SHARE * expected:
            continue  # too few datapoints after it to tell whether the sizing held
        cpu_sizing, memory_sizing = sizing_at(cpu.before(at), memory.before(at), at)
        replays.append(Replay(
            at_ns=at,
            cpu_margin=cpu_sizing.margin_to_hold(cpu_after.peak),
            memory_margin=memory_sizing.margin_to_hold(memory_after.peak),
            cpu_peak_after=cpu_after.peak, memory_peak_after=memory_after.peak))
    return Backtest(tuple(replays))
