"""tests/support/moto_metrics.py answers GetMetricData exactly as moto's own implementation."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from tests.support import moto_metrics

REGION = "ap-south-1"
# moto keeps timestamps as naive UTC datetimes; a start off the period boundaries
START = datetime(2025, 3, 1, 0, 0, 17)
SERVICE = [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}]


def _datum(rng: random.Random, name: str, dims: list[dict[str, str]], stamp: datetime,
           unit: str) -> dict[str, Any]:
    datum: dict[str, Any] = {"MetricName": name, "Dimensions": dims, "Timestamp": stamp,
                             "Unit": unit}
    if rng.random() < 0.5:
        datum["Value"] = round(rng.uniform(0, 100), 3)
    else:
        low, high = sorted(round(rng.uniform(0, 100), 3) for _ in range(2))
        datum["StatisticValues"] = {"SampleCount": rng.randint(1, 60),
                                    "Sum": round(rng.uniform(0, 5000), 3),
                                    "Minimum": low, "Maximum": high}
    return datum


@pytest.fixture(scope="module")
def backend() -> Any:
    rng = random.Random(7)
    with mock_aws():
        client = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        series = [  # (namespace, name, dimensions, unit)
            ("AWS/ECS", "CPUUtilization", SERVICE, "Percent"),
            ("AWS/ECS", "CPUUtilization", SERVICE[::-1], "Percent"),  # same, other order
            ("AWS/ECS", "CPUUtilization", SERVICE[:1], "Percent"),
            ("Other", "CPUUtilization", SERVICE, "Percent"),  # same name, other namespace
            ("AWS/ECS", "MemoryUtilization", SERVICE, "Percent"),
            ("AWS/RDS", "FreeableMemory", [{"Name": "DBInstanceIdentifier", "Value": "db"}],
             "Bytes"),
            ("AWS/RDS", "FreeableMemory", [{"Name": "DBInstanceIdentifier", "Value": "db"}],
             "Megabytes"),
            ("AWS/ECS", "CPUUtilization", [], "Percent"),
        ]
        for namespace, name, dims, unit in series:
            data = [_datum(rng, name, dims, START + timedelta(minutes=minutes), unit)
                    for minutes in range(-90, 3 * 24 * 60 + 90, 37)]
            rng.shuffle(data)  # stored out of time order, as several writers would
            for offset in range(0, len(data), 500):
                client.put_metric_data(Namespace=namespace, MetricData=data[offset:offset + 500])
        yield cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION]


def _queries() -> list[dict[str, Any]]:
    queries = []
    metrics = [("AWS/ECS", "CPUUtilization", SERVICE), ("AWS/ECS", "CPUUtilization", SERVICE[::-1]),
               ("AWS/ECS", "CPUUtilization", SERVICE[:1]), ("AWS/ECS", "CPUUtilization", []),
               ("Other", "CPUUtilization", []), ("AWS/ECS", "MemoryUtilization", SERVICE),
               ("AWS/RDS", "FreeableMemory", [{"Name": "DBInstanceIdentifier", "Value": "db"}]),
               ("AWS/ECS", "NoSuchMetric", SERVICE)]
    for index, (namespace, name, dims) in enumerate(metrics):
        for stat, period, unit in (("Maximum", 3600, None), ("Average", 300, None),
                                   ("Minimum", 86_400, None), ("Sum", 3600, "Percent"),
                                   ("SampleCount", 3600, "Bytes"), ("p99", 3600, None)):
            query: dict[str, Any] = {
                "Id": f"q{index}{stat.lower()}{period}",
                "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name,
                                          "Dimensions": dims},
                               "Period": period, "Stat": stat}}
            if unit:
                query["MetricStat"]["Unit"] = unit
            queries.append(query)
    queries[3]["Label"] = "labelled"
    queries[4]["ReturnData"] = False
    return queries


@pytest.mark.parametrize("scan_by", ["TimestampAscending", "TimestampDescending"])
@pytest.mark.parametrize("window", [(timedelta(0), timedelta(days=3)),
                                    (timedelta(hours=-2), timedelta(days=1, minutes=7)),
                                    (timedelta(hours=5), timedelta(hours=5, minutes=30))])
def test_answers_equal_motos_own(backend: Any, scan_by: str,
                                 window: tuple[timedelta, timedelta]) -> None:
    start, end = START + window[0], START + window[1]
    queries = _queries()
    theirs = moto_metrics.ORIGINAL(backend, queries, start, end, scan_by)
    ours = moto_metrics.get_metric_data(backend, queries, start, end, scan_by)
    assert ours == theirs  # same datums, same order: the same floats, not approximately
    assert any(result["values"] for result in ours)
    assert len(ours) == len(queries) - 1  # the ReturnData=False query is left out


def test_installed_replaces_and_restores_the_backend_method() -> None:
    before = CloudWatchBackend.get_metric_data
    with moto_metrics.installed():
        assert CloudWatchBackend.get_metric_data is moto_metrics.get_metric_data
    assert CloudWatchBackend.get_metric_data is before


def test_expressions_and_bad_windows_are_left_to_moto(backend: Any) -> None:
    expression = [*_queries()[:1], {"Id": "e1", "Expression": "q0maximum3600 * 2"}]
    end = START + timedelta(days=1)
    assert moto_metrics.get_metric_data(backend, expression, START, end) == \
        moto_metrics.ORIGINAL(backend, expression, START, end)
    with pytest.raises(Exception, match="EndTime must be greater"):
        moto_metrics.get_metric_data(backend, _queries(), end, START)
