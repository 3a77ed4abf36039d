"""moto's GetMetricData, answered the same way without scanning every datum for every period.

moto (5.x, CloudWatchBackend.get_metric_data) walks the query window one period at a time and,
for each period of each MetricStat query, filters every stored datum: a 14-day hourly window
over the demo account's datums is most of an `analyze` against a moto server. This keeps
moto's own selection, rule for rule, and only changes how the datums are reached:

- the datums in [StartTime, EndTime) of moto's `get_all_metrics()`, in its order;
- namespace and name match when the query names no dimensions; with dimensions, the name and
  `sorted(datum dimensions) == sorted(query dimensions)` (moto's own comparison, with its
  Dimension equality and ordering, evaluated once per distinct dimension list);
- then the unit, if the query names one;
- each datum in the period [StartTime + k * Period, StartTime + (k + 1) * Period) holding it,
  aggregated by moto's Statistics in the datums' order, periods ascending (reversed for
  TimestampDescending).

Queries with an Expression (metric math, Metrics Insights) go to moto's own implementation.
tests/test_moto_metrics.py holds the two answers equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch import models

ORIGINAL: Callable[..., list[dict[str, Any]]] = models.CloudWatchBackend.get_metric_data


def _signature(datum: Any) -> tuple[tuple[Any, Any], ...]:
    return tuple((dimension.name, dimension.value) for dimension in datum.dimensions)


def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: datetime,
                    end_time: datetime, scan_by: str = "TimestampAscending"
                    ) -> list[dict[str, Any]]:
    if any("MetricStat" not in query for query in queries):
        return ORIGINAL(self, queries, start_time, end_time, scan_by)
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time >= end_time:  # moto's own ValidationError for these
        return ORIGINAL(self, queries, start_time, end_time, scan_by)

    by_name: dict[str, list[Any]] = {}
    for datum in self.get_all_metrics():
        if start_time <= datum.timestamp < end_time:
            by_name.setdefault(datum.name, []).append(datum)

    results = []
    for query in queries:
        stat_query = query["MetricStat"]
        metric = stat_query["Metric"]
        name, stat, unit = metric["MetricName"], stat_query["Stat"], stat_query.get("Unit")
        delta = timedelta(seconds=int(stat_query["Period"]))
        dimensions = [models.Dimension(name=d["Name"], value=d["Value"])
                      for d in metric.get("Dimensions", [])]
        selected = _selected(by_name.get(name, []), metric["Namespace"], dimensions)
        if unit:
            selected = [datum for datum in selected if datum.unit == unit]
        periods: dict[int, list[Any]] = {}
        for datum in selected:
            periods.setdefault((datum.timestamp - start_time) // delta, []).append(datum)
        values, timestamps = [], []
        for index in sorted(periods):
            stats = models.Statistics([stat], start_time + index * delta)
            stats.metric_data = periods[index]
            values.append(stats.get_statistics_for_type(stat))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            timestamps.reverse()
            values.reverse()
        label = query.get("Label") or f"{name} {stat}"
        if query.get("ReturnData", True):
            results.append({"id": query["Id"], "label": label, "values": values,
                            "timestamps": timestamps, "status_code": "Complete"})
    return results


def _selected(named: list[Any], namespace: str, dimensions: list[Any]) -> list[Any]:
    if not dimensions:
        return [datum for datum in named if datum.namespace == namespace]
    wanted = sorted(dimensions)
    matches: dict[tuple[tuple[Any, Any], ...], bool] = {}
    selected = []
    for datum in named:
        signature = _signature(datum)
        if signature not in matches:
            matches[signature] = sorted(datum.dimensions) == wanted
        if matches[signature]:
            selected.append(datum)
    return selected


@contextmanager
def installed() -> Iterator[None]:
    """moto's backends (in-process mocks and ThreadedMotoServer alike) answer with this."""
    previous = models.CloudWatchBackend.get_metric_data
    models.CloudWatchBackend.get_metric_data = get_metric_data
    try:
        yield
    finally:
        models.CloudWatchBackend.get_metric_data = previous
