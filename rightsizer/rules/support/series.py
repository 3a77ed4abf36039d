"""Small, pure statistics over metric series shared by the rules."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
