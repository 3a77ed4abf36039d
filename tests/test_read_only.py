"""The read-only promise, proven: run the pipeline, record every API operation, and check each
one is a read and is in the policy `rightsizer iam-policy` prints."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from rightsizer.aws.clients import CallRecorder
from rightsizer.aws.iam_policy import READ_ONLY_PREFIXES, iam_action_for, policy_document
from rightsizer.collect.run import collect_snapshot
from rightsizer.config import _validate
from rightsizer.demo.run import demo_config, demo_session

# ecr:BatchGetImage returns image manifests (graviton-migration reads a multi-architecture
# image's platforms), never image layers: those need ecr:GetDownloadUrlForLayer, never asked.
ALLOWED_NON_READS = {"sts:AssumeRole", "ecr:BatchGetImage"}


def policy_actions(config=None, pricing_refresh: bool = False) -> set[str]:
    return {action for statement in policy_document(config, pricing_refresh=pricing_refresh)[
        "Statement"] for action in statement["Action"]}


def assert_read_only_and_in_policy(recorder: CallRecorder, config=None,
                                   pricing_refresh: bool = False) -> None:
    assert recorder.calls, "nothing was recorded"
    actions = policy_actions(config, pricing_refresh)
    for operation in recorder.calls:
        verb = operation.split(":", 1)[1]
        assert verb.startswith(READ_ONLY_PREFIXES) or operation in ALLOWED_NON_READS, operation
        action = iam_action_for(operation)
        assert action is not None, f"{operation} is called but not mapped to an IAM action"
        assert action in actions, f"{action} missing from the printed policy"


def test_demo_pipeline_only_reads_and_every_call_is_in_the_policy():
    config = demo_config(_validate({"analysis": {"lookback_days": 3}}, "test"))
    recorder = CallRecorder()
    with demo_session(config) as (session, now):
        collect_snapshot(config, session, now=now, recorder=recorder, demo=True)
    assert_read_only_and_in_policy(recorder, config)
    # every collector ran: inventory, metrics, costs
    for operation in ("ecs:DescribeServices", "cloudwatch:GetMetricData", "rds:DescribeDBInstances",
                      "s3:GetBucketLifecycleConfiguration", "ce:GetCostAndUsage",
                      "logs:DescribeLogGroups", "elasticache:DescribeCacheClusters"):
        assert recorder.calls[operation] >= 1, operation


@mock_aws
def test_multi_account_organization_path_only_reads_and_assumes_roles():
    session = boto3.Session(region_name="ap-south-1")
    org = session.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    org.create_account(AccountName="school-a", Email="a@example.com")
    config = _validate({"aws": {"regions": ["ap-south-1", "us-east-1"], "organization": True,
                                "role_name": "RightsizerReadOnly"}}, "test")
    recorder = CallRecorder()
    snapshot = collect_snapshot(config, session, recorder=recorder)
    assert recorder.calls["organizations:ListAccounts"] == 1
    assert recorder.calls["sts:AssumeRole"] >= 2
    assert len(snapshot.manifest["accounts"]) >= 2
    assert_read_only_and_in_policy(recorder, config)


def test_printed_policy_is_valid_iam_json_without_wildcard_actions():
    result = subprocess.run([sys.executable, "-m", "rightsizer", "iam-policy"],
                            capture_output=True, text=True, check=True)
    policy = json.loads(result.stdout)
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            service, name = action.split(":")
            assert service and name and "*" not in action
            assert name.startswith(READ_ONLY_PREFIXES) or action in ALLOWED_NON_READS


@pytest.mark.parametrize("operation", ["ecs:UpdateService", "rds:StopDBInstance",
                                       "s3:PutBucketLifecycleConfiguration"])
def test_write_operations_are_not_in_the_policy(operation):
    assert iam_action_for(operation) is None
