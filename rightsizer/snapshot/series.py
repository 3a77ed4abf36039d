"""Per-series statistics for every series of one metric at once.

Rules judge each resource on a few figures of its series (count, peak, a percentile, the last
value, the daily peaks and their trend). Computed one resource at a time through pandas that
costs ~1 ms a resource (a Series, a DatetimeIndex, a resample); over 100,000 resources it was
most of a run. Here each figure is one numpy pass over all series of a metric, cached, and a
rule reads it by position.

Semantics match the per-series helpers in rules/series.py: NaN datapoints are ignored,
percentiles use numpy's "higher" method, daily peaks are UTC calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

DAY_NS = 86_400 * 10**9
# Theil-Sen needs every pair of days; a block of series is done in chunks so the pairwise
# matrix stays under ~50 MB whatever the lookback.
_PAIRWISE_CELLS = 6_000_000
MIN_TREND_DAYS = 7  # under a week, growth cannot be told from the weekly cycle


class SeriesStats:
    """Statistics of the series of one (namespace, metric, statistic).

    `keys` maps (account, region, resource) to a position; every figure is an array indexed by
    that position. A series with no valid datapoint has count 0 and NaN figures.
    """

    def __init__(self, keys: dict[tuple[str, str, str], int], values: np.ndarray,
                 stamps_ns: np.ndarray, starts: np.ndarray) -> None:
        # values/stamps: every series' datapoints, series after series, each oldest first;
        # series i is values[starts[i]:starts[i + 1]].
        self.keys = keys
        self._rows = np.diff(starts)
        valid = ~np.isnan(values)
        owner = np.repeat(np.arange(len(keys)), self._rows)
        self._values = values[valid]
        self._stamps = stamps_ns[valid]
        self._owner = owner[valid]
        self.count = np.bincount(self._owner, minlength=len(keys))
        self._starts = np.concatenate(([0], np.cumsum(self.count)))
        self._percentiles: dict[float, np.ndarray] = {}

    @classmethod
    def empty(cls) -> SeriesStats:
        return cls({}, np.empty(0), np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64))

    def position(self, account: str, region: str, resource: str) -> int | None:
        return self.keys.get((account, region, resource))

    def of(self, account: str, region: str, resource: str) -> OneSeries:
        return OneSeries(self, self.keys.get((account, region, resource)))

    def points(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(stamps in ns, values) of one series' valid datapoints, oldest first."""
        lo, hi = self._starts[position], self._starts[position + 1]
        return self._stamps[lo:hi], self._values[lo:hi]

    def rows(self, position: int) -> int:
        """Datapoints stored, NaN ones included (what len(series) counts)."""
        return int(self._rows[position])

    # --- per-series reductions ---------------------------------------------------------------

    def _reduce(self, ufunc: np.ufunc, source: np.ndarray) -> np.ndarray:
        out = np.full(len(self.keys), np.nan)
        present = self.count > 0
        if present.any():
            out[present] = ufunc.reduceat(source, self._starts[:-1][present])
        return out

    @cached_property
    def maximum(self) -> np.ndarray:
        return self._reduce(np.maximum, self._values)

    @cached_property
    def minimum(self) -> np.ndarray:
        return self._reduce(np.minimum, self._values)

    @cached_property
    def total(self) -> np.ndarray:
        return self._reduce(np.add, self._values)

    @cached_property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total / self.count

    def _at(self, source: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        out = np.full(len(self.keys), np.nan)
        present = self.count > 0
        out[present] = source[(self._starts[:-1] + offsets)[present]]
        return out

    @cached_property
    def last(self) -> np.ndarray:
        return self._at(self._values, self.count - 1)

    @cached_property
    def first(self) -> np.ndarray:
        return self._at(self._values, np.zeros_like(self.count))

    @cached_property
    def first_stamp_ns(self) -> np.ndarray:
        return self._at(self._stamps.astype(float), np.zeros_like(self.count))

    @cached_property
    def last_stamp_ns(self) -> np.ndarray:
        return self._at(self._stamps.astype(float), self.count - 1)

    @cached_property
    def _sorted_values(self) -> np.ndarray:
        """Each series' values in ascending order, series after series.

        Series of one length are sorted as the rows of one matrix: most series of a metric
        have every datapoint, so that is one or a few np.sort calls over short rows, several
        times faster than sorting all values (then by series) as one array.
        """
        out = np.empty_like(self._values)
        for length in np.unique(self.count[self.count > 1]):
            rows = self._starts[:-1][self.count == length][:, None] + np.arange(length)
            out[rows] = np.sort(self._values[rows], axis=1)
        single = self._starts[:-1][self.count == 1]
        out[single] = self._values[single]
        return out

    def percentile(self, percent: float) -> np.ndarray:
        """np.quantile(..., method="higher") of each series (computed once per percent)."""
        cached = self._percentiles.get(percent)
        if cached is None:
            offsets = np.ceil(percent / 100.0 * np.maximum(self.count - 1, 0)).astype(np.int64)
            cached = self._percentiles[percent] = self._at(self._sorted_values, offsets)
        return cached

    @cached_property
    def median(self) -> np.ndarray:
        """Each series' median (as np.median: the mean of the two middle values when even),
        from the sort the percentiles already paid for."""
        last = np.maximum(self.count - 1, 0)
        low = self._at(self._sorted_values, last // 2)
        high = self._at(self._sorted_values, (last + 1) // 2)
        return (low + high) / 2

    # --- daily peaks ---------------------------------------------------------------------------

    @cached_property
    def _daily(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(day starts per series, day number, day maximum): one row per series-day."""
        days = self._stamps // DAY_NS
        if not len(days):
            return np.zeros(len(self.keys) + 1, dtype=np.int64), days, self._values
        new_day = np.concatenate(([True], (np.diff(days) != 0) | (np.diff(self._owner) != 0)))
        firsts = np.flatnonzero(new_day)
        peaks = np.maximum.reduceat(self._values, firsts)
        per_series = np.bincount(self._owner[firsts], minlength=len(self.keys))
        return np.concatenate(([0], np.cumsum(per_series))), days[firsts], peaks

    def daily_peaks(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(day numbers since the epoch, each day's highest value) of one series."""
        starts, days, peaks = self._daily
        lo, hi = starts[position], starts[position + 1]
        return days[lo:hi], peaks[lo:hi]

    @cached_property
    def daily_peak_trend(self) -> np.ndarray:
        """Theil-Sen slope of each series' daily peaks (unit per day); 0.0 under a week."""
        starts, days, peaks = self._daily
        lengths = np.diff(starts)
        trend = np.zeros(len(self.keys))
        for length in np.unique(lengths[lengths >= MIN_TREND_DAYS]):
            members = np.flatnonzero(lengths == length)
            grid = starts[members][:, None] + np.arange(length)
            first, second = np.triu_indices(int(length), k=1)
            chunk = max(1, _PAIRWISE_CELLS // len(first))
            for at in range(0, len(members), chunk):
                rows = grid[at:at + chunk]
                value, day = peaks[rows], days[rows].astype(float)
                slopes = (value[:, second] - value[:, first]) / (day[:, second] - day[:, first])
                trend[members[at:at + chunk]] = np.median(slopes, axis=1)
        return trend


@dataclass(frozen=True)
class OneSeries:
    """One resource's series, read from the bulk statistics (NaN figures when it is absent)."""

    stats: SeriesStats
    at: int | None

    @property
    def count(self) -> int:
        """Valid datapoints."""
        return 0 if self.at is None else int(self.stats.count[self.at])

    @property
    def rows(self) -> int:
        """Datapoints stored, NaN ones included."""
        return 0 if self.at is None else self.stats.rows(self.at)

    def coverage(self, expected_datapoints: int) -> float:
        """Share of the window's periods that have a datapoint (as rules/series.coverage)."""
        if expected_datapoints <= 0:
            return 0.0
        return min(1.0, self.count / expected_datapoints)

    def figure(self, values: np.ndarray) -> float:
        """This series' entry of a per-series array (stats.maximum, stats.percentile(95)...)."""
        return float("nan") if self.at is None else float(values[self.at])

    @property
    def maximum(self) -> float:
        return self.figure(self.stats.maximum)

    @property
    def median(self) -> float:
        return self.figure(self.stats.median)

    @property
    def minimum(self) -> float:
        return self.figure(self.stats.minimum)

    def percentile(self, percent: float) -> float:
        return self.figure(self.stats.percentile(percent)) if self.at is not None else \
            float("nan")

    def daily_peaks(self) -> list[float]:
        """One value a day (the day's highest), rounded: small enough to embed as evidence."""
        if self.at is None:
            return []
        return [round(float(value), 1) for value in self.stats.daily_peaks(self.at)[1]]
