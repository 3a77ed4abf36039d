"""Small, pure statistics over metric series shared by the rules."""

from __future__ import annotations

import pandas as pd


def coverage(series: pd.Series, expected_datapoints: int) -> float:
    """Share of the window's periods that have a datapoint (1.0 = no gaps)."""
    if expected_datapoints <= 0:
        return 0.0
    return min(1.0, len(series.dropna()) / expected_datapoints)


def percentile(series: pd.Series, percent: float) -> float:
    return float(series.quantile(percent / 100.0, interpolation="higher"))


def daily_peaks(series: pd.Series) -> list[float]:
    """One value a day (the day's highest), rounded: small enough to embed as evidence."""
    if series.empty:
        return []
    daily = series.resample("1D").max().dropna()
    return [round(float(value), 1) for value in daily]


def rounded(value: float, digits: int = 1) -> float:
    return round(float(value), digits)
