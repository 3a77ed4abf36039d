"""Per-series statistics for every series of one metric at once, computed with polars.

Rules judge each resource on a few figures of its series (count, peak, a percentile, the last
value, the daily peaks and their trend). Each figure here is one polars aggregation over every
series of a metric, grouped by series, and a rule reads a resource's figure by position.

Semantics (tested against the one-series references in tests/series_reference.py): NaN
datapoints are ignored, percentiles use the "higher" method (numpy's and polars' alike), the
median is the mean of the two middle values when the count is even (as np.median), daily peaks
are UTC calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

DAY_NS = 86_400 * 10**9
MIN_TREND_DAYS = 7  # under a week, growth cannot be told from the weekly cycle
# Theil-Sen needs every pair of days; series are taken in chunks so the matrix of pairwise
# slopes stays under ~50 MB whatever the lookback (up to 455 days: ~100,000 pairs a series)
_PAIRWISE_CELLS = 6_000_000

POINTS_SCHEMA = {"series": pl.UInt32, "timestamp": pl.Int64, "value": pl.Float64}
_VALUE, _STAMP = pl.col("value"), pl.col("timestamp")


def _starts(series: pl.Series, count: int) -> np.ndarray:
    """Where each position's rows begin in a column sorted by position, and where they end."""
    return np.searchsorted(series.to_numpy(), np.arange(count + 1))


class SeriesStats:
    """Statistics of the series of one (namespace, metric, statistic).

    `keys` maps (account, region, resource) to a position; every figure is an array indexed by
    that position. A series with no valid datapoint has count 0 and NaN figures.
    """

    def __init__(self, keys: list[tuple[str, str, str]], points: pl.DataFrame) -> None:
        """`points`: every datapoint of these series as (series: the position in `keys`,
        timestamp: ns since the epoch, value: null where it was NaN), in series then time
        order; every position has at least one row."""
        self.keys = {key: at for at, key in enumerate(keys)}
        self._points = points
        valid = _VALUE.drop_nulls()
        figures = points.group_by("series", maintain_order=True).agg(
            rows=pl.len(),
            count=_VALUE.count(),
            maximum=_VALUE.max(),
            minimum=_VALUE.min(),
            mean=_VALUE.mean(),
            median=_VALUE.median(),
            first=valid.first(),
            last=valid.last(),
            first_stamp_ns=_STAMP.filter(_VALUE.is_not_null()).first().cast(pl.Float64),
            last_stamp_ns=_STAMP.filter(_VALUE.is_not_null()).last().cast(pl.Float64),
        )
        self._rows = figures["rows"].to_numpy()
        self.count = figures["count"].to_numpy().astype(np.int64)
        self.maximum = figures["maximum"].to_numpy()
        self.minimum = figures["minimum"].to_numpy()
        self.mean = figures["mean"].to_numpy()
        self.median = figures["median"].to_numpy()
        self.first = figures["first"].to_numpy()
        self.last = figures["last"].to_numpy()
        self.first_stamp_ns = figures["first_stamp_ns"].to_numpy()
        self.last_stamp_ns = figures["last_stamp_ns"].to_numpy()
        self._percentiles: dict[float, np.ndarray] = {}

    @classmethod
    def empty(cls) -> SeriesStats:
        return cls([], pl.DataFrame(schema=POINTS_SCHEMA))

    def position(self, account: str, region: str, resource: str) -> int | None:
        return self.keys.get((account, region, resource))

    def of(self, account: str, region: str, resource: str) -> OneSeries:
        return OneSeries(self, self.keys.get((account, region, resource)))

    def rows(self, position: int) -> int:
        """Datapoints stored, NaN ones included (what len(series) counts)."""
        return int(self._rows[position])

    def percentile(self, percent: float) -> np.ndarray:
        """Each series' percentile, "higher" method (computed once per percent)."""
        found = self._percentiles.get(percent)
        if found is None:
            found = self._percentiles[percent] = self._points.group_by(
                "series", maintain_order=True).agg(
                _VALUE.quantile(percent / 100.0, interpolation="higher"))["value"].to_numpy()
        return found

    # --- one series' datapoints ----------------------------------------------------------------

    @cached_property
    def _valid(self) -> pl.DataFrame:
        return self._points.drop_nulls("value")

    @cached_property
    def _valid_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        valid = self._valid
        return (_starts(valid["series"], len(self.keys)), valid["timestamp"].to_numpy(),
                valid["value"].to_numpy())

    def points(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(stamps in ns, values) of one series' valid datapoints, oldest first."""
        starts, stamps, values = self._valid_points
        lo, hi = starts[position], starts[position + 1]
        return stamps[lo:hi], values[lo:hi]

    @cached_property
    def _all_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        points = self._points
        return (_starts(points["series"], len(self.keys)), points["timestamp"].to_numpy(),
                points["value"].to_numpy())  # null -> NaN

    def stored_points(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(stamps in ns, values) of every datapoint of one series as stored, NaN included."""
        starts, stamps, values = self._all_points
        lo, hi = starts[position], starts[position + 1]
        return stamps[lo:hi], values[lo:hi]

    # --- daily peaks ---------------------------------------------------------------------------

    @cached_property
    def _daily(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(where each series' days begin, day numbers, day maxima): one row per series-day.

        The points are in series then time order, so each series-day is one run of rows:
        grouping by run number is a fraction of grouping by (series, day) hashed."""
        daily = self._valid.with_columns(day=_STAMP // DAY_NS).group_by(
            pl.struct("series", "day").rle_id().alias("run"), maintain_order=True).agg(
            pl.col("series", "day").first(), peak=_VALUE.max())
        return (_starts(daily["series"], len(self.keys)), daily["day"].to_numpy(),
                daily["peak"].to_numpy())

    def daily_peaks(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(day numbers since the epoch, each day's highest value) of one series."""
        starts, days, peaks = self._daily
        lo, hi = starts[position], starts[position + 1]
        return days[lo:hi], peaks[lo:hi]

    @cached_property
    def daily_peak_trend(self) -> np.ndarray:
        """Theil-Sen slope of each series' daily peaks (unit per day): the median of the slopes
        between every pair of days; 0.0 under a week of days.

        polars has no grouped Theil-Sen, and a self-join of every series' days would hold
        every pair at once, so the series with the same number of days are taken together as
        the rows of one numpy matrix, a chunk of them at a time."""
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
        """Share of the window's periods that have a datapoint (1.0 = no gaps)."""
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
        return float("nan") if self.at is None else self.figure(self.stats.percentile(percent))

    def daily_peaks(self) -> list[float]:
        """One value a day (the day's highest), rounded: small enough to embed as evidence."""
        if self.at is None:
            return []
        return [round(float(value), 1) for value in self.stats.daily_peaks(self.at)[1]]
