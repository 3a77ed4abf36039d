"""Last year's season: the pure comparison, ecs-rightsize sizing for it, and its collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors import cloudwatch
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.engine import metric_needs, plan_metric_queries
from rightsizer.config import Config
from rightsizer.rules.ecs_rightsize import Settings, evaluate
from rightsizer.rules.support import year_ago
from tests.snapshot_factory import SnapshotBuilder, flat
from tests.support.synthetic_aws import SyntheticAws
from tests.test_collection import ACCOUNTS, REGIONS, small_spec

END = datetime(2026, 11, 1, tzinfo=UTC)
START = END - timedelta(days=14)
YEAR_AGO_DAYS = 14 + year_ago.AHEAD_DAYS  # the days the collector reads a year back


def _daily(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first = year_ago.window(START, END)[0]
    stamps = np.array([int((first + timedelta(days=i)).timestamp()) * 10**9
                       for i in range(len(values))])
    return stamps, np.asarray(values, dtype=float)


def exam_year(level: float = 20.0, exam_day: int = 20, factor: float = 3.0) -> np.ndarray:
    """Flat daily peaks a year ago, with a week at `factor` x from `exam_day`."""
    values = np.full(YEAR_AGO_DAYS, level)
    values[exam_day:exam_day + 7] = level * factor
    return values


# --- the comparison --------------------------------------------------------------------------

def test_an_exam_week_a_year_ago_rises_three_times_and_carries_over_at_todays_level():
    peak = year_ago.seasonal_peak(*_daily(exam_year()), START, END, np.full(14, 30.0))
    assert peak is not None
    assert peak.rise == pytest.approx(3.0)
    # this year's typical day is 30%: the season is 90% at today's load
    assert peak.projected_percent == pytest.approx(90.0)


def test_projection_never_exceeds_the_whole_task():
    peak = year_ago.seasonal_peak(*_daily(exam_year()), START, END, np.full(14, 50.0))
    assert peak is not None and peak.projected_percent == 100.0


def test_steady_growth_is_not_a_season():
    rising = 10.0 + 0.3 * np.arange(YEAR_AGO_DAYS)  # +0.3 points a day, all year
    peak = year_ago.seasonal_peak(*_daily(rising), START, END, np.full(14, 30.0))
    assert peak is not None
    assert peak.rise == pytest.approx(1.0, abs=1e-9)


def test_a_season_that_fell_in_the_windows_counterpart_still_counts():
    # last year's exam came a week earlier: inside the 14 days before "today a year ago"
    peak = year_ago.seasonal_peak(*_daily(exam_year(exam_day=5)), START, END, np.full(14, 30.0))
    assert peak is not None and peak.rise == pytest.approx(3.0)


def test_too_little_of_a_year_ago_is_no_comparison():
    sparse = np.full(YEAR_AGO_DAYS, np.nan)
    sparse[:int(YEAR_AGO_DAYS * year_ago.MIN_DAY_SHARE) - 1] = 20.0
    assert year_ago.seasonal_peak(*_daily(sparse), START, END, np.full(14, 30.0)) is None
    assert year_ago.seasonal_peak(*_daily(exam_year()), START, END, np.array([])) is None


def test_the_year_ago_window_is_52_weeks_back_and_reaches_ahead():
    start, end = year_ago.window(START, END)
    assert start == START - timedelta(days=364) and start.weekday() == START.weekday()
    assert end == END - timedelta(days=364) + timedelta(days=year_ago.AHEAD_DAYS)


# --- the rule --------------------------------------------------------------------------------

def _judge(settings: Settings | None = None, year: np.ndarray | None = None):
    snap = SnapshotBuilder(days=14, end=END)
    snap.ecs_service("api", cpu=2048, memory=4096)
    snap.ecs_usage("api", cpu_max=flat(15), memory_max=flat(20))
    if year is not None:
        snap.ecs_year_ago("api", year, np.full(YEAR_AGO_DAYS, 20.0))
    result = evaluate(snap.build(), settings or Settings())
    assert len(result.findings) == 1 and not result.skipped
    return result.findings[0]


def test_last_years_exam_season_holds_the_size_this_quiet_window_would_cut():
    quiet = _judge()
    seasonal = _judge(year=exam_year(level=12.0, factor=2.4))  # 2.4x a typical day then
    # 15% of 2 vCPU with headroom fits 0.5 vCPU; the season (2.4 x today's 15% = 36% of 2048
    # units, + 20% headroom: 885 units) does not
    assert quiet.recommended["cpu"] == 512
    assert seasonal.recommended["cpu"] == 1024
    assert seasonal.monthly_savings_usd < quiet.monthly_savings_usd
    evidence = seasonal.evidence
    assert evidence["year_ago"] == "compared"
    assert evidence["cpu_year_ago_rise"] == pytest.approx(2.4)
    assert evidence["cpu_seasonal_peak_percent"] == pytest.approx(36.0)
    assert evidence["cpu_needed_units"] == round(2048 * 0.36 * 1.2)
    assert "last year's season" in seasonal.reason and "2.4x" in seasonal.reason
    assert "last year's season" not in quiet.reason


def test_a_year_ago_no_higher_than_this_window_changes_nothing():
    finding = _judge(year=np.full(YEAR_AGO_DAYS, 9.0))  # flat then: rise 1.0
    assert finding.recommended == _judge().recommended
    assert finding.evidence["year_ago"] == "compared"
    assert finding.evidence["cpu_year_ago_rise"] == 1.0
    assert "last year's season" not in finding.reason


def test_without_history_the_finding_says_the_season_could_not_be_checked():
    assert _judge().evidence["year_ago"].startswith("no datapoints a year ago")


def test_year_ago_off_ignores_last_year_and_says_so():
    finding = _judge(Settings(year_ago=False), year=exam_year(level=12.0, factor=2.4))
    assert finding.recommended["cpu"] == 512
    assert finding.evidence["year_ago"] == "off"


# --- collection ------------------------------------------------------------------------------

def _config(**ecs_rightsize) -> Config:
    return Config.model_validate({"aws": {"regions": ["ap-south-1"]},
                                  "rules": {"ecs-rightsize": ecs_rightsize}})


ROW = {"cluster": "edufly", "service": "api", "container_insights": False}


def test_year_ago_series_are_planned_daily_and_only_when_the_setting_is_on():
    on = plan_metric_queries(metric_needs(_config()), {"ecs_services": [ROW]}, 3600)
    then = [query for query in on if query.year_ago]
    assert {(q.metric, q.stat, q.period_seconds) for q in then} == {
        ("CPUUtilization", "Maximum", 86_400), ("MemoryUtilization", "Maximum", 86_400)}
    assert {q.stored_stat for q in then} == {"Maximum@year-ago"}
    off = plan_metric_queries(metric_needs(_config(year_ago=False)), {"ecs_services": [ROW]},
                              3600)
    assert not any(query.year_ago for query in off)
    assert len(off) == len(on) - 2


def test_year_ago_series_are_read_over_the_window_a_year_back():
    fake = SyntheticAws(small_spec())
    now = datetime(2026, 1, 15, 6, tzinfo=UTC)
    queries = [cloudwatch.MetricQuery("AWS/ECS", "CPUUtilization",
                                      (("ClusterName", "c"), ("ServiceName", "s")), "Maximum",
                                      period, "c/s", then)
               for period, then in ((3600, False), (86_400, True))]
    with fake.installed():
        frame = cloudwatch.fetch_metrics(
            Target(ACCOUNTS[0], REGIONS[0], AwsClients(fake.session())), ErrorLog(), queries,
            now - timedelta(days=14), now)
    recent = frame[frame["stat"] == "Maximum"]["timestamp"]
    past = frame[frame["stat"] == "Maximum@year-ago"]["timestamp"]
    assert recent.min() >= now - timedelta(days=14) and recent.max() < now
    start, end = year_ago.window(now - timedelta(days=14), now)
    assert past.min() >= start.replace(hour=0) and past.max() < end
    assert len(past) == (end.date() - start.date()).days + 1  # one a day
