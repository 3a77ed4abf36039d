"""One-series reference implementations (pandas in, figures out) of what
rightsizer.snapshot.series computes for all series at once: the bulk figures are tested against
these, which are simple enough to check by eye."""

from __future__ import annotations

import numpy as np
import pandas as pd


def coverage(series: pd.Series, expected_datapoints: int) -> float:
    """Share of the window's periods that have a datapoint (1.0 = no gaps)."""
    if expected_datapoints <= 0:
        return 0.0
    return min(1.0, len(series.dropna()) / expected_datapoints)


_DAY_NS = 86_400 * 10**9


def daily_max(series: pd.Series) -> pd.Series:
    """`series.resample("1D").max().dropna()` for a sorted UTC (or naive) series, in numpy:
    resample builds bins and a groupby per call (~1 ms; rules call it per resource)."""
    index = series.index
    if not isinstance(index, pd.DatetimeIndex) or (index.tz is not None and
                                                   str(index.tz) != "UTC") \
            or not index.is_monotonic_increasing:
        return series.resample("1D").max().dropna()
    values = series.to_numpy(dtype=float)
    stamps = index.as_unit("ns").asi8
    keep = ~np.isnan(values)
    values, days = values[keep], stamps[keep] // _DAY_NS
    if not len(values):
        return pd.Series(dtype=float, index=index[:0])
    starts = np.flatnonzero(np.concatenate(([True], np.diff(days) != 0)))
    day_index = pd.DatetimeIndex(days[starts] * _DAY_NS, tz=index.tz).as_unit(index.unit)
    return pd.Series(np.maximum.reduceat(values, starts), index=day_index)


def daily_peaks(series: pd.Series) -> list[float]:
    """One value a day (the day's highest), rounded: small enough to embed as evidence."""
    if series.empty:
        return []
    return [round(float(value), 1) for value in daily_max(series)]


def daily_peak_trend_per_day(series: pd.Series) -> float:
    """Growth of the daily peaks, in the series' unit per day: the Theil-Sen slope (median of
    the slopes between every pair of days). The median shrugs off a few odd busy days, so
    mostly a steady climb moves it (a step up, e.g. exams starting mid-window, also reads as
    growth: the safe way to be wrong). 0.0 with under a week of days."""
    if series.empty:
        return 0.0
    daily = daily_max(series)
    if len(daily) < 7:  # too short to tell growth from the weekly cycle
        return 0.0
    days = ((daily.index - daily.index[0]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    values = daily.to_numpy(dtype=float)
    first, second = np.triu_indices(len(values), k=1)
    slopes = (values[second] - values[first]) / (days[second] - days[first])
    return float(np.median(slopes))
