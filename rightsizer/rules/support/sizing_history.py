"""The sizing history: weeks of hourly Maximum before the lookback window.

CloudWatch keeps hourly datapoints for 455 days and GetMetricData bills per metric requested,
not per datapoint, so eight weeks of an hourly series cost what two weeks cost. ecs-rightsize
sizes from `analysis.sizing_history_days` of hourly Maximum (and backtests on it); the other
rules keep judging `lookback_days`.

A series that needs the history is fetched once over the long range and stored in two parts:
the datapoints inside the lookback window under its own statistic ("Maximum"), so every rule
reading the window sees what it always saw, and the ones before it under "Maximum@history".
Sources: retention (hourly data 455 days),
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Metric;
GetMetricData is priced per 1,000 metrics requested, https://aws.amazon.com/cloudwatch/pricing/
(the figure and its date: rightsizer/pricing/data/cloudwatch.json).
"""

from __future__ import annotations

from datetime import datetime, timedelta

SUFFIX = "@history"
DEFAULT_DAYS = 56


def stored_stat(stat: str) -> str:
    """The statistic name the part of a series before the lookback window is stored under."""
    return stat + SUFFIX


def history_start(window_start: datetime, window_end: datetime, days: int) -> datetime:
    """Where the sizing history begins: `days` before the window's end, never after the
    window's start (a history shorter than the lookback is the lookback)."""
    return min(window_start, window_end - timedelta(days=days))
