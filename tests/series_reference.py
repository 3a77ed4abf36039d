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


def daily_max(series: pd.Series) -> pd.Series:
    """Each UTC calendar day's highest value, days without a valid datapoint left out."""
    return series.resample("1D").max().dropna()


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
