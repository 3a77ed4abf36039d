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
        for percent in (0, 1, 33.3, 50, 90, 95, 99.5, 100):
            assert stats.percentile(percent)[at] == percentile(series, percent)
        stamps, values = stats.points(at)
        assert list(values) == list(valid.to_numpy())
        assert list(stamps) == list(valid.index.as_unit("ns").asi8)
        assert stats.first_stamp_ns[at] == valid.index[0].value
        assert stats.last_stamp_ns[at] == valid.index[-1].value
        days, peaks = stats.daily_peaks(at)
        daily = daily_max(series)
        assert list(peaks) == list(daily.to_numpy())
        assert list(days) == list(daily.index.as_unit("ns").asi8 // (86_400 * 10**9))
        assert stats.daily_peak_trend[at] == pytest.approx(daily_peak_trend_per_day(series))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_stored_series_keeps_its_nans_and_its_time_unit(seed):
    snapshot, expected = _snapshot(seed)
    unit = pd.to_datetime(snapshot.table("metrics")["timestamp"], utc=True).dt.unit
    for name, series in expected.items():
        stored = snapshot.series("1", "r", "AWS/ECS", "CPUUtilization", name, "Maximum")
        if series.empty:
            assert stored.empty
            continue
        assert stored.index.name == "timestamp" and stored.index.unit == unit
        assert str(stored.index.tz) == "UTC"
        assert list(stored.index) == list(series.index)
        np.testing.assert_array_equal(stored.to_numpy(), series.to_numpy())  # NaN where NaN
        one = snapshot.one_series("1", "r", "AWS/ECS", "CPUUtilization", name, "Maximum")
        assert one.rows == len(series) and one.count == series.notna().sum()
        assert one.daily_peaks() == [round(float(v), 1) for v in daily_max(series)]


def test_a_series_with_no_valid_datapoint_has_nan_figures():
    frame = pd.DataFrame({
        "account": "1", "region": "r", "namespace": "AWS/RDS", "metric": "CPUUtilization",
        "resource": ["db-a", "db-a", "db-b"], "stat": "Maximum",
        "timestamp": [START, START + pd.Timedelta(hours=1), START],
        "value": [np.nan, np.nan, 5.0]}, columns=TABLE_COLUMNS["metrics"])
    manifest = {"window": {"start": START.isoformat(), "end": (START + pd.Timedelta(days=1))
                           .isoformat(), "days": 1}, "period_seconds": 3600}
    stats = Snapshot(manifest=manifest, tables={"metrics": frame}).series_stats(
        "AWS/RDS", "CPUUtilization", "Maximum")
    at = stats.position("1", "r", "db-a")
    assert stats.count[at] == 0 and stats.rows(at) == 2
    for figure in (stats.maximum, stats.minimum, stats.median, stats.last, stats.first,
                   stats.first_stamp_ns, stats.percentile(95)):
        assert np.isnan(figure[at])
    assert len(stats.points(at)[1]) == 0 and len(stats.daily_peaks(at)[1]) == 0
    assert stats.daily_peak_trend[at] == 0.0
    other = stats.position("1", "r", "db-b")
    assert stats.maximum[other] == 5.0 and stats.percentile(95)[other] == 5.0


def test_an_unknown_metric_has_no_series():
    snapshot, _ = _snapshot(1)
    stats = snapshot.series_stats("AWS/RDS", "CPUUtilization", "Maximum")
    assert stats.position("1", "r", "svc-1") is None
    assert len(stats.count) == 0
