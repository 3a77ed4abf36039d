"""The demo account builder: every resource, metric shape and cost month it promises exists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws
from moto.server import ThreadedMotoServer

from rightsizer.demo.account import (
    DEMO_CLUSTER,
    DEMO_REGION,
    DemoAccount,
    build_demo_account,
    cost_results,
)
from tests.conftest import FAKE_CREDENTIALS, free_port

DAYS = 14
# A fixed clock keeps the exam week and the month boundaries the same on every run.
NOW = datetime(2025, 3, 19, 10, 37, tzinfo=UTC)
Built = tuple[boto3.Session, DemoAccount]


@pytest.fixture(scope="class")
def built() -> Iterator[Built]:
    """One account for the module: building it is the slow part."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in FAKE_CREDENTIALS.items():
            patch.setenv(key, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            session = boto3.Session(region_name=DEMO_REGION)
            yield session, build_demo_account(session, now=NOW, days=DAYS)


def metric_values(session: boto3.Session, namespace: str, metric: str,
                  dimensions: list[tuple[str, str]], stat: str, *, end: datetime,
                  days: int = DAYS, period: int = 3600) -> list[float]:
    cloudwatch = session.client("cloudwatch")
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": {
            "Namespace": namespace, "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions]},
            "Period": period, "Stat": stat}}],
        StartTime=end - timedelta(days=days), EndTime=end, ScanBy="TimestampAscending")
    return [float(v) for v in response["MetricDataResults"][0]["Values"]]


def ecs_values(session: boto3.Session, account: DemoAccount, role: str, metric: str,
               stat: str) -> list[float]:
    return metric_values(session, "AWS/ECS", metric,
                         [("ClusterName", DEMO_CLUSTER), ("ServiceName", account.services[role])],
                         stat, end=account.window_end)


class TestInProcess:
    """In-process (mock_aws) tests share one account, torn down before the server test runs:
    a ThreadedMotoServer serves the same process-wide moto backends."""

    def test_window_ends_on_the_hour(self, built: Built) -> None:
        _, account = built
        assert account.window_end == datetime(2025, 3, 19, 10, tzinfo=UTC)


    def test_ecs_cluster_and_fargate_services(self, built: Built) -> None:
        session, account = built
        ecs = session.client("ecs")
        cluster = ecs.describe_clusters(clusters=[DEMO_CLUSTER],
                                        include=["SETTINGS"])["clusters"][0]
        assert {"name": "containerInsights", "value": "disabled"} in cluster["settings"]
        assert not cluster.get("defaultCapacityProviderStrategy")
        expected = {"api": (1024, 2048, 2, True), "worker": (512, 1024, 1, False),
                    "admin": (2048, 4096, 1, True), "notifications": (256, 512, 1, False),
                    "report-cards": (256, 512, 1, False)}
        services = ecs.describe_services(cluster=DEMO_CLUSTER, include=["TAGS"],
                                         services=list(account.services.values()))["services"]
        by_name = {service["serviceName"]: service for service in services}
        for role, (cpu, memory, desired, behind_alb) in expected.items():
            service = by_name[account.services[role]]
            assert service["launchType"] == "FARGATE"
            assert service["desiredCount"] == desired
            assert not service.get("capacityProviderStrategy")
            tags = {tag["key"]: tag["value"] for tag in service["tags"]}
            assert tags["project"] == "edufly" and tags["env"] == "production" and tags["team"]
            assert bool(service["loadBalancers"]) is behind_alb
            task = ecs.describe_task_definition(
                taskDefinition=service["taskDefinition"])["taskDefinition"]
            assert (task["cpu"], task["memory"]) == (str(cpu), str(memory))
            assert task["networkMode"] == "awsvpc"
            assert task["requiresCompatibilities"] == ["FARGATE"]
        # last month's advice applied: revision 2 at the new size, rolled out before the window
        worker = by_name[account.services["worker"]]
        assert worker["taskDefinition"].endswith(":2")
        assert ecs.describe_task_definition(taskDefinition=worker["taskDefinition"].replace(
            ":2", ":1"))["taskDefinition"]["cpu"] == "1024"
        rolled_out = worker["deployments"][0]["createdAt"]
        assert rolled_out < account.window_end - timedelta(days=14)
        api = by_name["edufly-api"]
        assert api["loadBalancers"][0]["containerPort"] == 3000
        assert api["loadBalancers"][0]["targetGroupArn"].startswith(
            "arn:aws:elasticloadbalancing:ap-south-1:")
        container = ecs.describe_task_definition(taskDefinition="edufly-api")["taskDefinition"][
            "containerDefinitions"][0]
        assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/edufly-api"


    def test_api_has_low_average_but_exam_peaks(self, built: Built) -> None:
        session, account = built
        average = ecs_values(session, account, "api", "CPUUtilization", "Average")
        maximum = ecs_values(session, account, "api", "CPUUtilization", "Maximum")
        assert DAYS * 24 - 2 <= len(maximum) <= DAYS * 24
        assert sum(average) / len(average) < 35
        assert sum(value > 70 for value in maximum) >= 10  # exam-week rush hours
        memory = ecs_values(session, account, "api", "MemoryUtilization", "Maximum")
        assert 55 <= max(memory) <= 70


    def test_admin_is_over_provisioned_and_worker_busy(self, built: Built) -> None:
        session, account = built
        assert max(ecs_values(session, account, "admin", "CPUUtilization", "Maximum")) <= 18
        assert max(ecs_values(session, account, "admin", "MemoryUtilization", "Maximum")) <= 22
        worker_cpu = ecs_values(session, account, "worker", "CPUUtilization", "Maximum")
        assert 60 <= max(worker_cpu) <= 80
        assert max(ecs_values(session, account, "worker", "MemoryUtilization", "Maximum")) <= 62


    def test_notifications_has_only_two_days(self, built: Built) -> None:
        session, account = built
        points = ecs_values(session, account, "notifications", "CPUUtilization", "Average")
        assert 46 <= len(points) <= 48


    def test_databases(self, built: Built) -> None:
        session, account = built
        rds = session.client("rds")
        dbs = {db["DBInstanceIdentifier"]: db for db in rds.describe_db_instances()["DBInstances"]}
        primary = dbs[account.databases["primary"]]
        assert (primary["DBInstanceClass"], primary["MultiAZ"]) == ("db.t3.small", True)
        assert (primary["AllocatedStorage"], primary["StorageType"]) == (20, "gp2")
        assert primary["BackupRetentionPeriod"] == 7
        assert primary["Engine"] == "postgres" and primary["EngineVersion"].startswith("15.")
        replica = dbs[account.databases["replica"]]
        assert replica["DBInstanceClass"] == "db.t3.micro"
        assert replica["ReadReplicaSourceDBInstanceIdentifier"] == account.databases["primary"]
        staging = dbs[account.databases["staging"]]
        assert (staging["DBInstanceStatus"], staging["MultiAZ"]) == ("stopped", False)
        for db in dbs.values():
            tags = rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]
            assert {"Key": "project", "Value": "edufly"} in tags
        staging_cpu = metric_values(session, "AWS/RDS", "CPUUtilization",
                                    [("DBInstanceIdentifier", account.databases["staging"])],
                                    "Average", end=account.window_end)
        assert len(staging_cpu) == 72  # ran for the first 3 days, then stopped


    def test_cache_and_buckets(self, built: Built) -> None:
        session, account = built
        cache = session.client("elasticache").describe_cache_clusters(
            CacheClusterId=account.cache_cluster)["CacheClusters"][0]
        assert (cache["Engine"], cache["CacheNodeType"], cache["NumCacheNodes"]) == (
            "redis", "cache.t3.micro", 1)
        s3 = session.client("s3")
        assert {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]} >= set(
            account.buckets.values())
        rules = s3.get_bucket_lifecycle_configuration(Bucket=account.buckets["assets"])["Rules"]
        assert [rule["Status"] for rule in rules] == ["Enabled"]
        assert [(t["Days"], t["StorageClass"]) for t in rules[0]["Transitions"]] == [
            (90, "STANDARD_IA"), (365, "GLACIER")]
        exports = s3.get_bucket_lifecycle_configuration(Bucket=account.buckets["exports"])["Rules"]
        assert [rule["Status"] for rule in exports] == ["Disabled"]
        for role in ("documents", "logos"):
            with pytest.raises(s3.exceptions.ClientError):
                s3.get_bucket_lifecycle_configuration(Bucket=account.buckets[role])
        assert s3.get_bucket_location(Bucket=account.buckets["documents"])[
            "LocationConstraint"] == DEMO_REGION
        # Daily sizes, stamped 00:00 UTC, queried as the collector does (BucketName first).
        sizes = metric_values(session, "AWS/S3", "BucketSizeBytes",
                              [("BucketName", account.buckets["documents"]),
                               ("StorageType", "StandardStorage")], "Average",
                              end=account.window_end, days=DAYS + 1, period=86400)
        assert len(sizes) >= DAYS and 175 <= sizes[-1] / 1024**3 <= 181


    def test_cost_explorer_months(self, built: Built) -> None:
        session, _ = built
        ce = session.client("ce", region_name="us-east-1")
        response = ce.get_cost_and_usage(
            TimePeriod={"Start": "2024-12-01", "End": "2025-03-19"}, Granularity="MONTHLY",
            Metrics=["UnblendedCost"], GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}])
        months = [period["TimePeriod"]["Start"] for period in response["ResultsByTime"]]
        assert months == ["2024-12-01", "2025-01-01", "2025-02-01", "2025-03-01"]
        totals = [sum(float(group["Metrics"]["UnblendedCost"]["Amount"]) for group in p["Groups"]
                      if group["Keys"] != ["Tax"])
                  for p in response["ResultsByTime"]]
        assert 400 < totals[0] < totals[1] < totals[2] < 560  # growing, ~$500 a month before tax
        assert response["ResultsByTime"][-1]["Estimated"] is True
        services = {g["Keys"][0] for g in response["ResultsByTime"][0]["Groups"]}
        assert {"Amazon Elastic Container Service", "Tax"} <= services


def test_no_partial_month_on_the_first() -> None:
    results: dict[str, Any] = cost_results(datetime(2025, 4, 1, tzinfo=UTC).date())
    assert [p["TimePeriod"]["Start"] for p in results["ResultsByTime"]] == [
        "2025-01-01", "2025-02-01", "2025-03-01"]


def test_builds_against_a_moto_server() -> None:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)  # no state left by other tests
    try:
        session = boto3.Session(region_name=DEMO_REGION)
        account = build_demo_account(session, now=NOW, days=2, endpoint_url=endpoint)
        ecs = session.client("ecs", endpoint_url=endpoint)
        assert len(ecs.list_services(cluster=DEMO_CLUSTER)["serviceArns"]) == 5
        cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
        response = cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": {
                "Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "ClusterName", "Value": DEMO_CLUSTER},
                               {"Name": "ServiceName", "Value": account.services["api"]}]},
                "Period": 3600, "Stat": "Maximum"}}],
            StartTime=account.window_end - timedelta(days=2), EndTime=account.window_end)
        assert len(response["MetricDataResults"][0]["Values"]) == 48
        ce = session.client("ce", region_name="us-east-1", endpoint_url=endpoint)
        costs = ce.get_cost_and_usage(
            TimePeriod={"Start": "2024-12-01", "End": "2025-03-19"}, Granularity="MONTHLY",
            Metrics=["UnblendedCost"], GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}])
        assert len(costs["ResultsByTime"]) == 4
    finally:
        server.stop()
