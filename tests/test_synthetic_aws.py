"""The synthetic AWS answers like AWS: real pagination, real limits, errors in each protocol that
botocore parses (and retries) as it would AWS's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

END = datetime(2026, 1, 15, tzinfo=UTC)
NO_RETRY = BotoConfig(retries={"mode": "standard", "total_max_attempts": 1})


def query(index: int, period: int = 3600) -> dict:
    return {"Id": f"q{index}", "MetricStat": {"Metric": {
        "Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "ServiceName", "Value": f"svc-{index}"}]},
        "Period": period, "Stat": "Average"}}


@pytest.fixture
def fake():
    fake = SyntheticAws(SyntheticSpec(latency=0, ecs_services=300, rds_instances=12 * 130,
                                      services_per_cluster=300))
    with fake.installed():
        yield fake


def assumed(fake: SyntheticAws, account: str, region: str = "us-east-1") -> boto3.Session:
    credentials = fake.session().client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/R", RoleSessionName="test")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=region)


def test_assumed_credentials_answer_as_their_account(fake):
    assert fake.session().client("sts").get_caller_identity()["Account"] == "111111111111"
    sts = assumed(fake, "333333333333").client("sts")
    assert sts.get_caller_identity()["Account"] == "333333333333"


def test_list_services_pages_ten_by_default_and_at_most_a_hundred(fake):
    ecs = fake.session().client("ecs")
    cluster = ecs.list_clusters()["clusterArns"][0]
    first = ecs.list_services(cluster=cluster)
    assert len(first["serviceArns"]) == 10 and first["nextToken"]
    pages = list(ecs.get_paginator("list_services").paginate(
        cluster=cluster, PaginationConfig={"PageSize": 100}))
    assert [len(page["serviceArns"]) for page in pages] == [25]  # 300 / 12 places
    with pytest.raises(ClientError):
        ecs.list_services(cluster=cluster, maxResults=101)


def test_describe_db_instances_pages_with_marker(fake):
    rds = fake.session().client("rds")
    pages = list(rds.get_paginator("describe_db_instances").paginate())
    assert [len(page["DBInstances"]) for page in pages] == [100, 30]
    assert "Marker" in pages[0]


def test_get_metric_data_limits_and_next_token(fake):
    cloudwatch = fake.session().client("cloudwatch", config=NO_RETRY)
    with pytest.raises(ClientError) as error:
        cloudwatch.get_metric_data(MetricDataQueries=[query(i) for i in range(501)],
                                   StartTime=END - timedelta(days=1), EndTime=END)
    assert error.value.response["Error"]["Code"] == "ValidationError"
    pages = list(cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=[query(i) for i in range(3)], StartTime=END - timedelta(days=1),
        EndTime=END, MaxDatapoints=50))
    assert len(pages) == 2  # 72 datapoints, 50 a page
    points = sum(len(r["Values"]) for page in pages for r in page["MetricDataResults"])
    assert points == 72


def test_get_metric_statistics_refuses_more_than_1440_points(fake):
    cloudwatch = fake.session().client("cloudwatch", config=NO_RETRY)
    with pytest.raises(ClientError) as error:
        cloudwatch.get_metric_statistics(Namespace="AWS/RDS", MetricName="CPUUtilization",
                                         StartTime=END - timedelta(days=61), EndTime=END,
                                         Period=3600, Statistics=["Average"])
    assert error.value.response["Error"]["Code"] == "InvalidParameterCombination"


@pytest.mark.parametrize(("service", "call", "code"), [
    ("ecs", "list_clusters", "ThrottlingException"),
    ("rds", "describe_db_instances", "Throttling"),
    ("s3", "list_buckets", "SlowDown"),
    ("cloudwatch", "list_metrics", "ThrottlingException"),
    ("ec2", "describe_regions", "RequestLimitExceeded"),
])
def test_throttling_is_parsed_and_retried_by_botocore(fake, service, call, code):
    fake.spec.throttle = 1.0
    client = fake.session().client(service, config=BotoConfig(
        retries={"mode": "standard", "total_max_attempts": 2}))
    with pytest.raises(ClientError) as error:
        getattr(client, call)()
    assert error.value.response["Error"]["Code"] == code
    assert sum(fake.calls.values()) == 2  # the first attempt and one retry


def test_deny_and_unassumable(fake):
    fake.spec.deny.append(("222222222222", "ap-south-1", "rds"))
    fake.spec.unassumable.add("333333333333")
    session = assumed(fake, "222222222222", "ap-south-1")
    with pytest.raises(ClientError) as error:
        session.client("rds", config=NO_RETRY).describe_db_instances()
    assert error.value.response["Error"]["Code"] == "AccessDenied"
    session.client("rds", region_name="us-east-1").describe_db_instances()  # other region ok
    with pytest.raises(ClientError):
        assumed(fake, "333333333333")


def test_organization_lists_suspended_members_too(fake):
    accounts = fake.session().client("organizations").list_accounts()["Accounts"]
    assert {a["Id"]: a["Status"] for a in accounts}["999999999999"] == "SUSPENDED"


def test_s3_answers_missing_configuration_like_s3(fake):
    s3 = fake.session().client("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    codes = set()
    for name in names[:12]:
        try:
            s3.get_bucket_lifecycle_configuration(Bucket=name)
            codes.add("present")
        except ClientError as exc:
            codes.add(exc.response["Error"]["Code"])
    assert codes == {"present", "NoSuchLifecycleConfiguration"}
