"""Small, pure statistics over metric series shared by the rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rightsizer.snapshot.series import OneSeries


def percentile(series: pd.Series, percent: float) -> float:
    """Series.quantile(interpolation="higher"), NaN ignored, as np.quantile(method="higher"):
    pandas' own call carries far more overhead, and rules call this per resource
    (docs/benchmarks.md)."""
    values = series.to_numpy(dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan")
    return float(np.quantile(values, percent / 100.0, method="higher"))


def rounded(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def share_at_or_above(series: OneSeries, level: float) -> float:
    """Share of a series' valid datapoints at or above `level` (0.0 without data): how many
    hours a resource spent pinned, not only whether it peaked once."""
    if series.at is None or series.count == 0 or not series.maximum >= level:
        return 0.0  # the usual case, told by the peak alone
    _, values = series.stats.points(series.at)
    return float(np.count_nonzero(values >= level)) / len(values)
