"""CloudWatch: every series the enabled rules need, in as few GetMetricData calls as allowed.

GetMetricData takes up to 500 queries and returns up to 100,800 datapoints per call, paging the
rest with NextToken. Queries are packed 500 to a call and the window is cut into time slices so
that one call never asks for more than 100,800 datapoints. Source:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from rightsizer.collect.collectors.base import ErrorLog, Target, chunks, recorded_failure
from rightsizer.collect.spec import CollectorSpec, same_name, schema
from rightsizer.rules.support import sizing_history, year_ago

SERVICE = "cloudwatch"
MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
DAY_SECONDS = 86_400
METRICS_SCHEMA = schema("account", "region", "namespace", "metric", "resource", "stat",
                        "timestamp", "value", timestamp=pa.timestamp("ns", tz="UTC"),
                        value=pa.float64())
METRIC_COLUMNS = list(METRICS_SCHEMA.names)

@dataclass(frozen=True)
class MetricQuery:
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period_seconds: int
    resource: str  # the key rules look the series up by
    year_ago: bool = False  # read over the window's counterpart a year ago (year_ago.window)
    # read from the sizing history's start, the part before the window stored apart
    # (rules/support/sizing_history.py)
    history: bool = False

    @property
    def stored_stat(self) -> str:
        return year_ago.stored_stat(self.stat) if self.year_ago else self.stat


def plan_calls(query_count: int, points_per_query: int) -> tuple[int, int]:
    """(queries per call, time slices): the fewest calls that respect both per-call limits.

    Each query is asked for once over the whole window whenever one series fits in a call:
    GetMetricData bills every query of every call, so cutting the window into slices would
    pay for each series once per slice (and 500 queries x 2 slices also takes more calls than
    300 queries x 1 slice). Only a series longer than a call's datapoints is sliced.
    """
    points = max(1, points_per_query)
    if points > MAX_DATAPOINTS_PER_CALL:
        return 1, math.ceil(points / MAX_DATAPOINTS_PER_CALL)
    per_call = min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // points)
    # even batches (836 queries -> 279+279+278, not 300+300+236): same calls, smaller pages
    calls = math.ceil(max(1, query_count) / per_call)
    return math.ceil(max(1, query_count) / calls), 1


def fetch_metrics(target: Target, errors: ErrorLog, queries: list[MetricQuery],
                  window_start: datetime, window_end: datetime,
                  history_start: datetime | None = None) -> pd.DataFrame:
    """Rows (account, region, namespace, metric, resource, stat, timestamp, value) for every
    query, as one columnar frame: millions of datapoints as dicts would take gigabytes.

    A call has one time range, so the queries are grouped by range (the window, the sizing
    history from `history_start`, a year ago) and each group packed on its own."""
    frames: list[pd.DataFrame] = []
    history_start = min(history_start or window_start, window_start)
    by_period: dict[tuple[int, bool, bool], list[MetricQuery]] = {}
    for query in queries:
        by_period.setdefault((query.period_seconds, query.year_ago, query.history),
                             []).append(query)
    for (period, then, history), group in sorted(by_period.items()):
        if then:  # a year ago reaches back as far as the sizing history does
            start, end = year_ago.window(history_start, window_end)
        else:
            start, end = (history_start if history else window_start), window_end
        period_start = start
        if period >= DAY_SECONDS:  # daily metrics are stamped at 00:00 UTC
            period_start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        # a partial last period (daily metrics, a window ending at 06:00) is a datapoint too
        points = max(1, math.ceil((end - period_start).total_seconds() / period))
        per_call, slices = plan_calls(len(group), points)
        slice_edges = _slice_edges(period_start, end, period, slices)
        for batch in chunks(group, per_call):
            for slice_start, slice_end in slice_edges:
                frame = _fetch_batch(target, errors, batch, slice_start, slice_end)
                frames.append(_split_history(frame, window_start) if history else frame)
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else _metric_frame([], [], [], [])


def _split_history(frame: pd.DataFrame, window_start: datetime) -> pd.DataFrame:
    """The datapoints before the window under the history statistic: rules that judge the
    window read the same series whether or not another rule asked for the history."""
    if frame.empty:
        return frame
    before = (frame["timestamp"] < pd.Timestamp(window_start)).to_numpy()
    if before.any():
        frame.loc[before, "stat"] = frame.loc[before, "stat"] + sizing_history.SUFFIX
    return frame


def _slice_edges(start: datetime, end: datetime, period: int,
                 slices: int) -> list[tuple[datetime, datetime]]:
    total_periods = max(1, math.ceil((end - start).total_seconds() / period))
    per_slice = math.ceil(total_periods / slices)
    edges = []
    cursor = start
    for index in range(slices):
        # The last slice runs to the end: cutting at whole periods used to leave a stub (the
        # 6 hours after the last midnight of a daily series) that cost one more call, billed
        # for every query in it.
        upper = end if index == slices - 1 else \
            min(end, cursor + timedelta(seconds=per_slice * period))
        if cursor >= upper:
            break
        edges.append((cursor, upper))
        cursor = upper
    return edges


def _metric_frame(queries: list[MetricQuery], account_region: list[str],
                  stamps: list[np.ndarray], values: list[float],
                  owners: list[np.ndarray] | None = None) -> pd.DataFrame:
    """A metrics table from per-result arrays; owners say which query a datapoint is of."""
    if not stamps or not owners:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in METRIC_COLUMNS})
    index = np.concatenate(owners)
    # a string array of the few distinct values, then take(): converting millions of Python
    # strings one by one was a large part of a big run's CPU time
    column = {name: pd.array([getattr(query, field) for query in queries], dtype="str")
              .take(index) for name, field in (("namespace", "namespace"), ("metric", "metric"),
                                               ("resource", "resource"),
                                               ("stat", "stored_stat"))}
    account, region = account_region
    return pd.DataFrame({
        "account": pd.array([account], dtype="str").take(np.zeros(len(index), np.int64)),
        "region": pd.array([region], dtype="str").take(np.zeros(len(index), np.int64)),
        **column,
        "timestamp": pd.to_datetime(np.concatenate(stamps), unit="ns", utc=True),
        "value": np.asarray(values, dtype=np.float64),
    }, columns=METRIC_COLUMNS)


def _fetch_batch(target: Target, errors: ErrorLog, batch: list[MetricQuery],
                 start: datetime, end: datetime) -> pd.DataFrame:
    by_id = {f"q{index}": query for index, query in enumerate(batch)}
    request = [
        {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": query.namespace,
                    "MetricName": query.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
                },
                "Period": query.period_seconds,
                "Stat": query.stat,
            },
            "ReturnData": True,
        }
        for query_id, query in by_id.items()
    ]
    position = {query_id: index for index, query_id in enumerate(by_id)}
    owners: list[np.ndarray] = []
    stamps: list[np.ndarray] = []  # nanoseconds since the epoch, a result at a time
    values: list[float] = []
    with recorded_failure(errors, target.account, target.region, SERVICE, "GetMetricData"):
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MetricDataQueries": request, "StartTime": start,
                                      "EndTime": end, "ScanBy": "TimestampAscending"}
            if token:
                kwargs["NextToken"] = token
            response = target.client("cloudwatch").get_metric_data(**kwargs)
            for result in response.get("MetricDataResults", []):
                owner = position.get(result.get("Id", ""))
                if owner is None:
                    continue
                found = min(len(result.get("Timestamps", [])), len(result.get("Values", [])))
                if found:
                    # as_unit: pandas 3 keeps datetimes in microseconds, and the frame below
                    # reads these integers as nanoseconds
                    stamps.append(pd.DatetimeIndex(result["Timestamps"][:found])
                                  .as_unit("ns").asi8)
                    values.extend(result["Values"][:found])
                    owners.append(np.full(found, owner, dtype=np.int64))
            token = response.get("NextToken")
            if not token:
                break
    return _metric_frame(list(by_id.values()), [target.account, target.region], stamps,
                         values, owners)


# Planned by the engine from the rules' metric needs and the inventory (engine.py).
SPECS = (
    CollectorSpec(table="metrics", label="cloudwatch metrics", schema=METRICS_SCHEMA,
                  operations=same_name("cloudwatch:GetMetricData")),
)
