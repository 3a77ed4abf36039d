"""Bulk per-series statistics agree with one-series reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rightsizer.rules.support.series import percentile
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot
from tests.series_reference import coverage, daily_max, daily_peak_trend_per_day

START = pd.Timestamp("2026-10-01T00:00:00Z")


def _snapshot(seed: int) -> tuple[Snapshot, dict[str, pd.Series]]:
    """Series of random lengths (0 to 30 days of hours), gaps, NaNs and shuffled rows."""
    rng = np.random.default_rng(seed)
    rows, expected = [], {}
    for i in range(40):
        hours = int(rng.integers(0, 30 * 24))
        stamps = START + pd.to_timedelta(np.sort(rng.choice(30 * 24, hours, replace=False)),
                                         unit="h")
        values = rng.gamma(2.0, 10.0, hours)
        values[rng.random(hours) < 0.05] = np.nan
        name = f"svc-{i}"
        expected[name] = pd.Series(values, index=stamps)
        rows += [{"account": "1", "region": "r", "namespace": "AWS/ECS",
                  "metric": "CPUUtilization", "resource": name, "stat": "Maximum",
                  "timestamp": stamp, "value": value} for stamp, value in zip(stamps, values,
                                                                             strict=True)]
        # the same resource under another statistic must not leak into this one
        rows.append({"account": "1", "region": "r", "namespace": "AWS/ECS",
                     "metric": "CPUUtilization", "resource": name, "stat": "Average",
                     "timestamp": START, "value": 1e9})
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS["metrics"]).sample(frac=1, random_state=1)
    manifest = {"window": {"start": START.isoformat(), "end": (START + pd.Timedelta(days=30))
                           .isoformat(), "days": 30}, "period_seconds": 3600}
    return Snapshot(manifest=manifest, tables={"metrics": frame}), expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_figures_equal_the_per_series_ones(seed):
    snapshot, expected = _snapshot(seed)
    stats = snapshot.series_stats("AWS/ECS", "CPUUtilization", "Maximum")
    for name, series in expected.items():
        at = stats.position("1", "r", name)
        valid = series.dropna()
        if valid.empty:
            assert at is None or stats.count[at] == 0
            continue
        assert stats.count[at] == len(valid)
        assert stats.rows(at) == len(series)
        assert stats.count[at] / 720 == pytest.approx(coverage(series, 720))
        assert stats.maximum[at] == valid.max()
        assert stats.minimum[at] == valid.min()
        assert stats.last[at] == valid.iloc[-1]
        assert stats.first[at] == valid.iloc[0]
        assert stats.median[at] == valid.median()  # exactly, not approximately
        assert stats.mean[at] == pytest.approx(valid.mean())
        for percent in (50, 90, 95, 99.5):
            assert stats.percentile(percent)[at] == percentile(series, percent)
        days, peaks = stats.daily_peaks(at)
        daily = daily_max(series)
        assert list(peaks) == list(daily.to_numpy())
        assert list(days) == list(daily.index.as_unit("ns").asi8 // (86_400 * 10**9))
        assert stats.daily_peak_trend[at] == pytest.approx(daily_peak_trend_per_day(series))


def test_an_unknown_metric_has_no_series():
    snapshot, _ = _snapshot(1)
    stats = snapshot.series_stats("AWS/RDS", "CPUUtilization", "Maximum")
    assert stats.position("1", "r", "svc-1") is None
    assert len(stats.count) == 0
