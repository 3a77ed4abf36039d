"""GetMetricData for the demo, answered from the datums the demo put.

moto's get_metric_data scans every stored datum for every period of every query, so eight
weeks of hourly ECS series (the sizing history) made `analyze --demo` several times slower. The
demo records every PutMetricData it makes (moto still gets them all), indexed by region, metric
and dimensions, and answers GetMetricData itself with CloudWatch's aggregation of
StatisticValues (Maximum / Minimum of the datums in a period, Average = Sum / SampleCount): the
request is still built and validated by botocore.
Response shape: MetricDataResults with Id, Label, Timestamps, Values, StatusCode, and Messages
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3

Key = tuple[str, str, str, frozenset[tuple[str, str]]]  # region, namespace, metric, dimensions


class DemoMetrics:
    """Every datum the demo put, by (region, namespace, metric, dimensions), oldest first."""

    def __init__(self) -> None:
        self._found: dict[Key, list[tuple[datetime, dict[str, float]]]] = {}
        self._series: dict[Key, list[tuple[datetime, dict[str, float]]]] = {}
        self._stamps: dict[Key, list[datetime]] = {}

    def record(self, region: str, params: dict[str, Any]) -> None:
        """One PutMetricData request (its parameters, as the demo passes them)."""
        for datum in params["MetricData"]:
            dims = frozenset((d["Name"], d["Value"]) for d in datum.get("Dimensions", []))
            self._found.setdefault((region, params["Namespace"], datum["MetricName"], dims),
                                   []).append((datum["Timestamp"], datum["StatisticValues"]))
        self._series.clear()

    def _index(self) -> None:
        if not self._series:
            self._series = {key: sorted(points, key=lambda point: point[0])
                            for key, points in self._found.items()}
            self._stamps = {key: [stamp for stamp, _ in points]
                            for key, points in self._series.items()}

    def recorder(self, client: Any) -> Any:
        """`client` (a CloudWatch client) with its PutMetricData calls recorded here too."""
        region = client.meta.region_name
        client.meta.events.register(
            "before-parameter-build.cloudwatch.PutMetricData",
            lambda params, **_: self.record(region, params))
        return client

    def answer(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        self._index()
        start, end = params["StartTime"], params["EndTime"]
        descending = params.get("ScanBy") == "TimestampDescending"
        results = []
        for query in params["MetricDataQueries"]:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            key = (region, metric["Namespace"], metric["MetricName"],
                   frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            stamps, values = self._aggregate(key, start, end, int(stat["Period"]), stat["Stat"])
            if descending:
                stamps, values = stamps[::-1], values[::-1]
            results.append({"Id": query["Id"], "Label": metric["MetricName"],
                            "Timestamps": stamps, "Values": values, "StatusCode": "Complete"})
        return {"MetricDataResults": results, "Messages": []}

    def _aggregate(self, key: Key, start: datetime, end: datetime, period: int,
                   stat: str) -> tuple[list[datetime], list[float]]:
        points, stamps = self._series.get(key, []), self._stamps.get(key, [])
        lo, hi = bisect.bisect_left(stamps, start), bisect.bisect_left(stamps, end)
        buckets: dict[datetime, list[dict[str, float]]] = {}
        step = timedelta(seconds=period)
        for stamp, values in points[lo:hi]:
            bucket = start + ((stamp - start) // step) * step
            buckets.setdefault(bucket, []).append(values)
        out_stamps, out_values = [], []
        for bucket, datums in sorted(buckets.items()):
            value = _statistic(datums, stat)
            if value is not None:
                out_stamps.append(bucket)
                out_values.append(value)
        return out_stamps, out_values


def _statistic(datums: list[dict[str, float]], stat: str) -> float | None:
    if stat == "Maximum":
        return max(d["Maximum"] for d in datums)
    if stat == "Minimum":
        return min(d["Minimum"] for d in datums)
    count = sum(d["SampleCount"] for d in datums)
    total = sum(d["Sum"] for d in datums)
    if stat == "Sum":
        return total
    if stat == "SampleCount":
        return count
    if stat == "Average":
        return total / count if count else None
    return None  # percentiles: the demo publishes no per-sample values to take them from


def serve(session: boto3.Session, metrics: DemoMetrics) -> None:
    """Answer the session's GetMetricData calls from `metrics` (after botocore has validated
    the request: before-call fires once the request is built)."""
    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["demo_metric_request"] = dict(params)

    def answer(context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        response = SimpleNamespace(status_code=200, headers={})
        return response, metrics.answer(context["client_region"],
                                        context["demo_metric_request"])

    session.events.register("before-parameter-build.cloudwatch.GetMetricData", remember)
    session.events.register("before-call.cloudwatch.GetMetricData", answer)


def keep_out_of_moto(session: boto3.Session) -> None:
    """The session's PutMetricData calls answered as accepted, once botocore has validated them,
    without moto parsing and storing each datum: the demo's GetMetricData is answered from
    DemoMetrics (serve), so moto's copy would never be read. PutMetricData returns no data
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html)."""
    def accepted(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=200, headers={}), {}

    session.events.register("before-call.cloudwatch.PutMetricData", accepted)
