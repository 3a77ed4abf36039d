"""The same weeks a year ago: what last year's season says about the month ahead.

A 14-day window cannot see an exam season, a sales peak or a year-end close that comes every
year: sizing on it alone downsizes a school product two weeks before its exams. CloudWatch keeps
hourly datapoints for 455 days (15 months), so the weeks around today a year ago, and the weeks
that followed them, can still be read. GetMetricData bills per series, not per datapoint, and a
daily Maximum over ~2 months is 60 datapoints: one more series per metric.

The year is 52 weeks (364 days) so that weekdays line up: a school-day peak is compared with a
school-day peak. Source for retention:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Metric
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

YEAR = timedelta(days=364)
# How far past "today a year ago" to read: the month a recommendation lives until the next
# monthly run, plus two weeks because a school calendar moves by a week or so from year to year.
AHEAD_DAYS = 45
SUFFIX = "@year-ago"
DAY_NS = 86_400 * 10**9
# Half the days of each part must have a datapoint to compare years at all.
MIN_DAY_SHARE = 0.5


def stored_stat(stat: str) -> str:
    """The statistic name a year-ago series is stored under in the metrics table."""
    return stat + SUFFIX


def window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The year-ago counterpart of the window [start, end), extended AHEAD_DAYS past its end."""
    return start - YEAR, end - YEAR + timedelta(days=AHEAD_DAYS)


@dataclass(frozen=True)
class SeasonalPeak:
    """How far above a typical day the season peaked a year ago, and what that is today.

    `rise` is a ratio within last year (its highest daily peak over its median daily peak,
    steady growth taken out), so it carries over whatever changed since: the product grew, the
    task was resized. Today's median daily peak times the rise is the season's peak at today's
    load and size. A report job pinned at 90% then and now shows in both years alike; a school
    term with an exam week at 3x load gives a rise of about 3.
    """

    peak_then_percent: float  # highest daily peak a year ago (trend taken out)
    typical_then_percent: float  # median daily peak a year ago (trend taken out)
    typical_now_percent: float  # median daily peak of this window

    @property
    def rise(self) -> float:
        return self.peak_then_percent / self.typical_then_percent

    @property
    def projected_percent(self) -> float:
        """Last year's seasonal peak at today's level (percent, at most 100)."""
        return min(100.0, self.typical_now_percent * self.rise)


def seasonal_peak(stamps_ns: np.ndarray, values: np.ndarray, window_start: datetime,
                  window_end: datetime, daily_peaks_now: np.ndarray) -> SeasonalPeak | None:
    """Last year's seasonal peak from a year-ago daily series; None when a year ago is not
    covered well enough to compare (a service younger than a year, missing data).

    The whole year-ago stretch counts, the window's counterpart included: a school calendar
    moves by a week or so, so this year's exam week may fall in the days after the window
    while last year's fell just before its end.
    """
    valid = ~np.isnan(values)
    stamps_ns, values = stamps_ns[valid], values[valid]
    peaks_now = daily_peaks_now[~np.isnan(daily_peaks_now)]
    pivot = _ns(window_end - YEAR)
    expected = (window_end - window_start).days + AHEAD_DAYS
    if len(values) < MIN_DAY_SHARE * expected or not len(peaks_now):
        return None
    # Steady growth is not a season (the rule projects this year's trend on its own): last
    # year's peaks are compared with the trend taken out, as if all at `pivot`.
    days = (stamps_ns - pivot) / DAY_NS
    values = values - _theil_sen_slope(days, values) * days
    typical_then = float(np.median(values))
    if typical_then <= 0:
        return None
    return SeasonalPeak(peak_then_percent=float(values.max()), typical_then_percent=typical_then,
                        typical_now_percent=float(np.median(peaks_now)))


def _theil_sen_slope(days: np.ndarray, values: np.ndarray) -> float:
    """Median of the pairwise slopes: a week of exams among 60 days barely moves it."""
    first, second = np.triu_indices(len(days), k=1)
    spans = days[second] - days[first]
    keep = spans != 0
    if not keep.any():
        return 0.0
    return float(np.median((values[second] - values[first])[keep] / spans[keep]))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9
