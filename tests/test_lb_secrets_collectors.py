"""The ELBv2 and Secrets Manager collectors against moto (mock_aws).

- DescribeTargetGroups lists each group's LoadBalancerArns; DescribeTargetHealth each registered
  target's State (API_TargetHealth.html); the CloudWatch LoadBalancer dimension is the ARN's
  part after "loadbalancer/" (load-balancer-cloudwatch-metrics.html).
- ListSecrets returns metadata only, LastAccessedDate omitted for a never-read secret
  (API_SecretListEntry.html).
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from rightsizer.aws.clients import AwsClients, CallRecorder
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.load_balancers import collect_load_balancers, metric_dimension
from rightsizer.collect.collectors.secrets import collect_secrets
from rightsizer.collect.registry import spec_for

REGION = "ap-south-1"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        recorder = CallRecorder()
        yield boto3.Session(region_name=REGION), recorder


def target(recorder: CallRecorder) -> Target:
    """A target on its own session: only the collector's calls are recorded."""
    session = boto3.Session(region_name=REGION)
    recorder.attach(session)
    return Target("123456789012", REGION, AwsClients(session))


def _subnets(session) -> tuple[str, list[str]]:
    ec2 = session.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    return vpc, [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])[:2]]


def test_alb_with_empty_target_group_no_groups_and_unhealthy_targets(aws):
    session, recorder = aws
    elbv2, ec2 = session.client("elbv2"), session.client("ec2")
    vpc, subnets = _subnets(session)
    idle = elbv2.create_load_balancer(Name="legacy", Subnets=subnets,
                                      Tags=[{"Key": "team", "Value": "platform"}])[
        "LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_load_balancer(Name="bare", Subnets=subnets)
    broken = elbv2.create_load_balancer(Name="broken", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"]
    for lb, name in ((idle, "legacy-tg"), (broken, "broken-tg")):
        group = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc,
                                          TargetType="instance")["TargetGroups"][0][
            "TargetGroupArn"]
        elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        if lb == broken:
            image = ec2.describe_images()["Images"][0]["ImageId"]
            instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
                "InstanceId"]
            elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": instance}])
            ec2.stop_instances(InstanceIds=[instance])  # moto: a stopped target is "unused"
    errors = ErrorLog()
    rows = {row["name"]: row for row in collect_load_balancers(target(recorder), errors)}
    assert errors.rows == []
    assert rows["legacy"]["target_group_count"] == 1
    assert rows["legacy"]["registered_targets"] == 0 and rows["legacy"]["targets_known"]
    assert json.loads(rows["legacy"]["tags"]) == {"team": "platform"}
    assert rows["legacy"]["metric_dimension"].startswith("app/legacy/")
    assert rows["bare"]["target_group_count"] == 0
    assert rows["broken"]["registered_targets"] == 1 and rows["broken"]["healthy_targets"] == 0
    assert rows["broken"]["type"] == "application" and rows["broken"]["state"] == "active"
    assert set(spec_for("load_balancers").columns) == set(rows["legacy"])
    # every call recorded is one the spec declares (so iam-policy grants it)
    declared = set(spec_for("load_balancers").operations)
    made = {name for name in recorder.calls if name.startswith("elasticloadbalancing:")}
    assert made <= declared and "elasticloadbalancing:DescribeTargetHealth" in made


def test_no_load_balancers_makes_one_call(aws):
    session, recorder = aws
    assert collect_load_balancers(target(recorder), ErrorLog()) == []
    assert {k: v for k, v in recorder.calls.items() if k.startswith("elastic")} == {
        "elasticloadbalancing:DescribeLoadBalancers": 1}


def test_metric_dimension_is_the_arn_suffix():
    arn = ("arn:aws:elasticloadbalancing:ap-south-1:123456789012:loadbalancer/net/tcp/"
           "50dc6c495c0c9188")
    assert metric_dimension(arn) == "net/tcp/50dc6c495c0c9188"
    assert metric_dimension("not-an-arn") == ""


def test_list_secrets_reads_metadata_never_a_value(aws):
    session, recorder = aws
    sm = session.client("secretsmanager")
    sm.create_secret(Name="edufly/database-url", SecretString="postgres://x",
                     Tags=[{"Key": "team", "Value": "platform"}])
    sm.create_secret(Name="edufly/legacy", SecretString="k")
    errors = ErrorLog()
    rows = {row["name"]: row for row in collect_secrets(target(recorder), errors)}
    assert errors.rows == []
    assert rows["edufly/database-url"]["last_accessed"] == ""  # never read: omitted
    assert rows["edufly/database-url"]["created_at"] != ""
    assert json.loads(rows["edufly/database-url"]["tags"]) == {"team": "platform"}
    assert rows["edufly/legacy"]["rotation_enabled"] is False
    assert "postgres://x" not in json.dumps(rows)
    made = {name for name in recorder.calls if name.startswith("secretsmanager:")}
    assert made == {"secretsmanager:ListSecrets"}
    assert set(spec_for("secrets").columns) == set(rows["edufly/legacy"])


def test_secret_entry_with_rotation_replicas_and_last_access_as_the_api_reference_shapes():
    """SecretListEntry fields as documented (moto's ListSecrets leaves ReplicationStatus out)."""
    from datetime import UTC, datetime

    from rightsizer.collect.collectors.secrets import _row

    entry = {
        "ARN": "arn:aws:secretsmanager:ap-south-1:123456789012:secret:s-AbCdEf", "Name": "s",
        "CreatedDate": datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        "LastAccessedDate": datetime(2026, 3, 1, tzinfo=UTC),  # a date: midnight
        "RotationEnabled": True, "RotationRules": {"AutomaticallyAfterDays": 30},
        "ReplicationStatus": [{"Region": "ap-southeast-1", "Status": "InSync"}],
    }
    row = _row(Target("123456789012", REGION, None), entry)  # type: ignore[arg-type]
    assert row["last_accessed"].startswith("2026-03-01 00:00:00")
    assert row["rotation_enabled"] is True and row["rotation_days"] == 30
    assert json.loads(row["replica_regions"]) == ["ap-southeast-1"]
    assert row["primary_region"] == "" and row["owning_service"] == ""
    minimal = _row(Target("123456789012", REGION, None), {"ARN": "a", "Name": "n"})  # type: ignore[arg-type]
    assert minimal["created_at"] == "" and minimal["last_accessed"] == ""
    assert minimal["replica_regions"] == "[]" and minimal["rotation_enabled"] is False
