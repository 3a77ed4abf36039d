"""The demo answers GetMetricData from its own datums as moto (and CloudWatch) aggregate them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from rightsizer.demo.account import DEMO_CLUSTER, DEMO_REGION, build_demo_account
from rightsizer.demo.metrics import serve

NOW = datetime(2025, 3, 19, 10, 37, tzinfo=UTC)


def _query(namespace: str, metric: str, dims: dict[str, str], stat: str, period: int) -> dict:
    return {"Id": f"q{abs(hash((metric, stat, period))) % 10**6}", "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": metric,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
        "Period": period, "Stat": stat}}


@pytest.fixture(scope="module")
def demo(monkeypatch_module):
    with mock_aws():
        session = boto3.Session(region_name=DEMO_REGION)
        yield session, build_demo_account(session, now=NOW, days=2)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(key, "testing")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        yield patch


def test_served_answers_equal_motos_for_the_same_queries(demo):
    session, account = demo
    api = {"ClusterName": DEMO_CLUSTER, "ServiceName": account.services["api"]}
    queries = [
        _query("AWS/ECS", "CPUUtilization", api, "Maximum", 3600),
        _query("AWS/ECS", "MemoryUtilization", api, "Average", 3600),
        _query("AWS/ECS", "CPUUtilization", api, "Maximum", 86_400),
        _query("AWS/RDS", "FreeableMemory",
               {"DBInstanceIdentifier": account.databases["primary"]}, "Minimum", 3600),
    ]
    window = {"StartTime": account.window_end - timedelta(days=2),
              "EndTime": account.window_end, "ScanBy": "TimestampAscending"}
    moto = session.client("cloudwatch").get_metric_data(MetricDataQueries=queries, **window)
    served = account.metrics.answer(DEMO_REGION, {"MetricDataQueries": queries, **window})
    for theirs, ours in zip(moto["MetricDataResults"], served["MetricDataResults"],
                            strict=True):
        assert ours["Id"] == theirs["Id"] and ours["StatusCode"] == "Complete"
        assert ours["Timestamps"] == theirs["Timestamps"]
        assert ours["Values"] == pytest.approx(theirs["Values"])
        assert ours["Values"], "every query has datapoints"


def test_series_put_in_another_region_are_served_only_there(demo):
    session, account = demo
    health = session.client("cloudwatch", region_name="us-east-1").list_metrics(
        Namespace="AWS/Route53")["Metrics"][0]
    query = {"Id": "h", "MetricStat": {"Metric": health, "Period": 3600, "Stat": "Minimum"}}
    window = {"StartTime": account.window_end - timedelta(days=2),
              "EndTime": account.window_end}
    moto = session.client("cloudwatch", region_name="us-east-1").get_metric_data(
        MetricDataQueries=[query], **window)["MetricDataResults"][0]
    served = account.metrics.answer("us-east-1", {"MetricDataQueries": [query], **window})
    assert served["MetricDataResults"][0]["Values"] == moto["Values"] != []
    elsewhere = account.metrics.answer(DEMO_REGION, {"MetricDataQueries": [query], **window})
    assert elsewhere["MetricDataResults"][0]["Values"] == []


def test_a_served_session_never_reaches_moto_for_metric_data(demo):
    _, account = demo
    session = boto3.Session(region_name=DEMO_REGION)
    serve(session, account.metrics)
    api = {"ClusterName": DEMO_CLUSTER, "ServiceName": account.services["worker"]}
    # nothing listens there: an answer can only come from the served datums
    client = session.client("cloudwatch", endpoint_url="http://127.0.0.1:9",
                            config=Config(retries={"max_attempts": 1}, connect_timeout=1))
    response = client.get_metric_data(
        MetricDataQueries=[_query("AWS/ECS", "CPUUtilization", api, "Maximum", 3600)],
        StartTime=account.window_end - timedelta(days=1), EndTime=account.window_end)
    [result] = response["MetricDataResults"]
    assert len(result["Values"]) == 24
    assert result["Timestamps"][0] == account.window_end - timedelta(days=1)
