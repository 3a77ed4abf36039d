"""`rightsizer iam-policy --config`: the policy is derived from the config, and is exactly what
that config's run calls.

For several configs the pipeline runs (the demo account in moto, or the synthetic AWS) with a
CallRecorder; every recorded call must be allowed by the derived policy (on the resource it was
made on, for the scoped statements), and every action the policy grants must have been called,
except the few that only some accounts make, each listed in OPTIONAL with why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from rightsizer.aws.clients import CALLER, ROLE, CallRecorder
from rightsizer.aws.iam_policy import (
    API_TO_IAM_ACTION,
    READ_ONLY_PREFIXES,
    REPORT_PUBLISH,
    all_actions,
    iam_action_for,
    planned_operations,
    policy_document,
    secret_arn,
)
from rightsizer.cli import app
from rightsizer.collect.collectors.costs import MonthlyCache
from rightsizer.collect.engine import metric_needs
from rightsizer.collect.run import collect_snapshot
from rightsizer.config import Config, _validate
from rightsizer.demo.account import DEMO_REGION
from rightsizer.demo.run import demo_config, demo_session
from rightsizer.rules.registry import REGISTRY
from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

NOW = datetime(2026, 1, 15, 6, tzinfo=UTC)
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "ap-south-1")
SECRET_NAME = "rightsizer/slack-webhook"

# Granted but only called where the account's contents (or AWS's answers) lead there. Each is
# made to happen by at least one run below (test_every_optional_call_is_made_somewhere).
OPTIONAL: dict[str, str] = {
    "s3:GetBucketTagging": "only when tag:GetResources is refused: bucket tags are then read "
                           "one by one",
    "s3:GetBucketLocation": "only for a bucket ListBuckets returns without BucketRegion",
    "application-autoscaling:DescribeScalingPolicies": "only where DescribeScalableTargets "
                                                       "finds a target",
    "ce:GetReservationUtilization": "only for a service (RDS, ElastiCache) the account holds "
                                    "reservations of",
    "elasticloadbalancing:DescribeTargetGroups": "only where DescribeLoadBalancers finds one",
    "elasticloadbalancing:DescribeTags": "only where DescribeLoadBalancers finds one",
    "elasticloadbalancing:DescribeTargetHealth": "only for a target group attached to a load "
                                                 "balancer",
    **{f"ecr:{operation}": "only for a repository DescribeRepositories lists"
       for operation in ("GetLifecyclePolicy", "DescribeImages", "ListTagsForResource")},
    "ecr:BatchGetImage": "only for a repository holding a tagged multi-architecture image",
    **{f"ec2:{operation}": "only for the VPC of a NAT gateway DescribeNatGateways lists"
       for operation in ("DescribeVpcs", "DescribeVpcEndpoints", "DescribeRouteTables")},
    "cloudfront:ListTagsForResource": "only for a distribution ListDistributions lists",
    "route53:ListTagsForResources": "only where ListHealthChecks finds health checks",
}
# ... and for the role in caller mode (cost_explorer = "auto" with accounts, or "caller"):
ROLE_OPTIONAL: dict[str, str] = {
    "ce:GetCostAndUsage": "only for an account the caller's Cost Explorer answer does not show "
                          "(the caller is not its payer)",
}


def iam_pattern(resource: str) -> re.Pattern[str]:
    """An IAM resource with its wildcards: * any run of characters, ? exactly one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in resource) + r"\Z")


def allows(policy: dict[str, Any], action: str, resource: str | None = None) -> bool:
    """Whether an Allow statement grants `action` (on `resource`, when given; else only a
    statement on "*" counts)."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or action not in statement["Action"]:
            continue
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if resource is None:
            if "*" in resources:
                return True
        elif any(iam_pattern(pattern).match(resource) for pattern in resources):
            return True
    return False


def granted(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def actions_of(operations: Any) -> set[str]:
    return {API_TO_IAM_ACTION[operation] for operation in operations}


def check_run(config: Config, calls: Counter[str], principal: str, recorder: CallRecorder,
              optional: dict[str, str]) -> None:
    """Every call allowed; nothing granted the run did not make, except `optional`."""
    policy = policy_document(config, principal=principal)
    assert calls, "nothing was recorded"
    for operation in calls:
        action = iam_action_for(operation)
        assert action is not None, f"{operation} is called but not mapped to an IAM action"
        if operation == "sts:AssumeRole":
            for arn in recorder.assumed_role_arns:
                assert allows(policy, action, arn), f"{arn} not assumable by the policy"
        elif operation == "secretsmanager:GetSecretValue":
            continue  # checked on the secret's ARN by the Slack test
        else:
            assert allows(policy, action), f"{action} not granted on * to {principal}"
    unused = granted(policy) - actions_of(calls)
    assert unused <= actions_of(optional), (
        f"{principal} is granted {sorted(unused - actions_of(optional))} the run never called")


# --- the runs ------------------------------------------------------------------------------

RUNS: dict[str, CallRecorder] = {}  # every run's calls, for the union check at the end


def spec(**changes: Any) -> SyntheticSpec:
    values: dict[str, Any] = {"latency": 0, "accounts": ACCOUNTS, "regions": REGIONS,
                              "ecs_services": 8, "rds_instances": 4, "buckets": 6,
                              "suspended_accounts": ("999999999999",)}
    values.update(changes)
    return SyntheticSpec(**values)


def synthetic_run(name: str, config: Config, fake_spec: SyntheticSpec | None = None
                  ) -> CallRecorder:
    fake = SyntheticAws(fake_spec or spec())
    recorder = CallRecorder()
    with fake.installed():
        collect_snapshot(config, fake.session(), now=NOW, recorder=recorder,
                         cost_cache=MonthlyCache(None, NOW.date()))
    RUNS[name] = recorder
    return recorder


def roles_config(**aws: Any) -> Config:
    return _validate({"aws": {"regions": list(REGIONS), "role_name": "RightsizerReadOnly",
                              **aws}}, "test")


@pytest.fixture(scope="module")
def demo_runs() -> dict[str, Any]:
    """The demo account (moto) with the default config, then the Slack webhook read from a
    Secrets Manager secret in the same account."""
    config = demo_config(_validate({"analysis": {"lookback_days": 3}}, "test"))
    slack_config = config.with_overrides(**{"slack.secret_id": SECRET_NAME})
    recorder, secret_recorder = CallRecorder(), CallRecorder()
    with demo_session(config) as (session, now):
        collect_snapshot(config, session, now=now, recorder=recorder, demo=True)
        # the same moto account, through sessions the run's recorder is not attached to
        secrets = boto3.Session(region_name=DEMO_REGION).client("secretsmanager")
        arn = secrets.create_secret(Name=SECRET_NAME,
                                    SecretString="https://hooks.slack.example/T0/B0/x")["ARN"]
        secrets.create_secret(Name=f"{SECRET_NAME}-old", SecretString="https://old.example/")
        slack_session = boto3.Session(region_name=DEMO_REGION)
        secret_recorder.attach(slack_session)
        from rightsizer.integrations import slack

        assert slack.webhook_url(slack_config.slack, lambda: slack_session).startswith(
            "https://")
    RUNS["demo"] = recorder
    RUNS["demo-slack"] = secret_recorder
    return {"config": config, "slack_config": slack_config, "recorder": recorder,
            "secret_recorder": secret_recorder, "secret_arn": arn}


def test_default_config_demo_run_calls_exactly_what_the_policy_grants(demo_runs):
    config, recorder = demo_runs["config"], demo_runs["recorder"]
    check_run(config, recorder.calls, "all", recorder, OPTIONAL)
    policy = policy_document(config)
    for absent in ("secretsmanager:GetSecretValue", "sts:AssumeRole",
                   "organizations:ListAccounts", "ec2:DescribeRegions", "pricing:GetProducts"):
        assert absent not in granted(policy), absent


def test_slack_secret_is_granted_on_that_secret_only(demo_runs):
    config, recorder = demo_runs["slack_config"], demo_runs["recorder"]
    calls = recorder.calls + demo_runs["secret_recorder"].calls
    assert demo_runs["secret_recorder"].calls == {"secretsmanager:GetSecretValue": 1}
    check_run(config, calls, "all", recorder, OPTIONAL)
    policy = policy_document(config)
    [statement] = [s for s in policy["Statement"] if "secretsmanager:GetSecretValue" in
                   s["Action"]]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == f"arn:aws:secretsmanager:*:*:secret:{SECRET_NAME}-??????"
    actual = demo_runs["secret_arn"]  # moto adds the random suffix, as Secrets Manager does
    assert allows(policy, "secretsmanager:GetSecretValue", actual)
    # "-??????" is exactly the suffix: a secret whose name merely starts the same is not granted
    other = actual.replace(SECRET_NAME, f"{SECRET_NAME}-old")
    assert not allows(policy, "secretsmanager:GetSecretValue", other)
    assert not allows(policy, "secretsmanager:GetSecretValue",
                      actual.replace("slack-webhook", "database-password"))


@pytest.mark.parametrize(("secret_id", "expected"), [
    ("arn:aws:secretsmanager:ap-south-1:123456789012:secret:rightsizer/slack-AbC123",
     "arn:aws:secretsmanager:ap-south-1:123456789012:secret:rightsizer/slack-AbC123"),
    ("arn:aws:secretsmanager:ap-south-1:123456789012:secret:rightsizer/slack",
     "arn:aws:secretsmanager:ap-south-1:123456789012:secret:rightsizer/slack-??????"),
    ("rightsizer/slack", "arn:aws:secretsmanager:*:*:secret:rightsizer/slack-??????"),
], ids=["full-arn-as-given", "partial-arn-gets-the-suffix", "name"])
def test_secret_resource_from_an_arn_or_a_name(secret_id, expected):
    assert secret_arn(secret_id) == expected


def test_a_disabled_rule_whose_series_are_not_needed_is_not_granted_cloudwatch():
    metric_rules = {rule_id: {"enabled": False} for rule_id, rule in REGISTRY.items()
                    if rule.metric_needs}
    assert metric_rules and len(metric_rules) < len(REGISTRY)  # some rules need no series
    config = _validate({"aws": {"regions": list(REGIONS)}, "rules": metric_rules}, "test")
    assert metric_needs(config) == []
    recorder = synthetic_run("no-metric-rules", config, spec(accounts=ACCOUNTS[:1]))
    assert "cloudwatch:GetMetricData" not in recorder.calls
    assert "cloudwatch:GetMetricData" not in granted(policy_document(config))
    check_run(config, recorder.calls, "all", recorder, OPTIONAL)
    # one metric rule back on: the series it reads are granted again
    again = _validate({"aws": {"regions": list(REGIONS)},
                       "rules": {**metric_rules, "rds-idle": {"enabled": True}}}, "test")
    assert "cloudwatch:GetMetricData" in granted(policy_document(again))


def test_regions_all_adds_describe_regions_and_nothing_else():
    config = _validate({"aws": {"regions": "all"}}, "test")
    recorder = synthetic_run("regions-all", config, spec(accounts=ACCOUNTS[:1]))
    assert recorder.calls["ec2:DescribeRegions"] == 1
    check_run(config, recorder.calls, "all", recorder, OPTIONAL)
    assert granted(policy_document(config)) - granted(
        policy_document(_validate({"aws": {"regions": list(REGIONS)}}, "test"))) == \
        {"ec2:DescribeRegions"}


def test_listed_accounts_assume_only_those_roles_each_principal_its_share():
    config = roles_config(accounts=list(ACCOUNTS))
    recorder = synthetic_run("accounts", config)
    assert sorted(recorder.assumed_role_arns) == [
        f"arn:aws:iam::{account}:role/RightsizerReadOnly" for account in ACCOUNTS]
    check_run(config, recorder.by_principal[CALLER], CALLER, recorder, OPTIONAL)
    check_run(config, recorder.by_principal[ROLE], ROLE, recorder, {**OPTIONAL,
                                                                   **ROLE_OPTIONAL})
    check_run(config, recorder.calls, "all", recorder, {**OPTIONAL, **ROLE_OPTIONAL})
    caller = policy_document(config, principal=CALLER)
    [assume] = [s for s in caller["Statement"] if s["Action"] == ["sts:AssumeRole"]]
    assert assume["Resource"] == [f"arn:aws:iam::{account}:role/RightsizerReadOnly"
                                  for account in ACCOUNTS]
    assert not allows(caller, "sts:AssumeRole", "arn:aws:iam::333333333333:role/"
                      "RightsizerReadOnly")
    assert not allows(caller, "sts:AssumeRole", f"arn:aws:iam::{ACCOUNTS[0]}:role/Admin")
    # the caller reads no inventory; the role assumes nothing and lists no organization
    role = granted(policy_document(config, principal=ROLE))
    assert "ecs:ListClusters" not in granted(caller) and "sts:AssumeRole" not in role
    assert "sts:GetCallerIdentity" not in role and "organizations:ListAccounts" not in role


def test_the_role_asks_cost_explorer_for_accounts_the_caller_cannot_see():
    config = roles_config(accounts=list(ACCOUNTS))
    recorder = synthetic_run("accounts-not-payer",
                             config, spec(payer_account="444444444444"))
    assert recorder.by_principal[ROLE]["ce:GetCostAndUsage"] >= 1
    check_run(config, recorder.by_principal[ROLE], ROLE, recorder, OPTIONAL)


def test_each_account_cost_explorer_moves_it_from_the_caller_to_the_role():
    config = roles_config(accounts=list(ACCOUNTS), cost_explorer="each-account")
    recorder = synthetic_run("each-account", config)
    assert not [name for name in recorder.by_principal[CALLER] if name.startswith("ce:")]
    # monthly by service, the hourly Fargate spend compute-savings-plan reads, and the
    # last month by usage type
    assert recorder.by_principal[ROLE]["ce:GetCostAndUsage"] == 3 * len(ACCOUNTS)
    check_run(config, recorder.by_principal[CALLER], CALLER, recorder, OPTIONAL)
    check_run(config, recorder.by_principal[ROLE], ROLE, recorder, OPTIONAL)
    assert not [a for a in granted(policy_document(config, principal=CALLER))
                if a.startswith("ce:")]


def test_organization_lists_accounts_and_assumes_the_named_role_in_any_account():
    config = roles_config(organization=True)
    recorder = synthetic_run("organization", config)
    assert recorder.by_principal[CALLER]["organizations:ListAccounts"] == 1
    check_run(config, recorder.by_principal[CALLER], CALLER, recorder, OPTIONAL)
    check_run(config, recorder.by_principal[ROLE], ROLE, recorder, {**OPTIONAL,
                                                                   **ROLE_OPTIONAL})
    caller = policy_document(config, principal=CALLER)
    [assume] = [s for s in caller["Statement"] if s["Action"] == ["sts:AssumeRole"]]
    assert assume["Resource"] == "arn:aws:iam::*:role/RightsizerReadOnly"
    assert not allows(caller, "sts:AssumeRole", "arn:aws:iam::123456789012:role/Other")
    # without organization = true, no ListAccounts
    assert "organizations:ListAccounts" not in granted(
        policy_document(roles_config(accounts=list(ACCOUNTS))))


def test_optional_calls_happen_where_the_account_leads_there():
    """The tagging API refused: bucket tags are read one by one. (The demo account covers the
    other optional calls: moto's ListBuckets has no BucketRegion, and the demo holds scalable
    targets and an expired reservation.)"""
    config = _validate({"aws": {"regions": list(REGIONS)}}, "test")
    refused = spec(accounts=ACCOUNTS[:1], deny=[(None, None, "resourcegroupstaggingapi")])
    recorder = synthetic_run("tagging-refused", config, refused)
    assert recorder.calls["s3:GetBucketTagging"] > 0
    check_run(config, recorder.calls, "all", recorder, OPTIONAL)


def test_every_optional_call_is_made_somewhere(demo_runs):
    """Run after the others (file order): OPTIONAL lists only calls some run really makes, and
    the runs together made every call any of these configs is granted."""
    made = set()
    for recorder in RUNS.values():
        made |= set(recorder.calls)
    assert set(OPTIONAL) | set(ROLE_OPTIONAL) <= made
    # pricing: tests/test_pricing_refresh; the report upload for the Slack link (no collection
    # call): tests/test_report_upload.py
    expected = set(API_TO_IAM_ACTION) - {"pricing:GetProducts", *REPORT_PUBLISH}
    assert expected - made == set()


# --- the policy itself --------------------------------------------------------------------

def test_reads_are_one_statement_on_star_and_only_the_role_and_secret_are_scoped():
    policy = policy_document(roles_config(organization=True,
                                          cost_explorer="caller").with_overrides(
        **{"slack.secret_id": SECRET_NAME}))
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert set(by_sid) == {"RightsizerReadOnly", "AssumeRightsizerRole",
                           "ReadSlackWebhookSecret"}
    assert by_sid["RightsizerReadOnly"]["Resource"] == "*"
    assert "cloudwatch:GetMetricData" in by_sid["RightsizerReadOnly"]["Action"]
    assert "rds:DescribeDBInstances" in by_sid["RightsizerReadOnly"]["Action"]
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            assert "*" not in action
            # ecr:BatchGetImage reads manifests only (see test_read_only.ALLOWED_NON_READS)
            assert action.split(":")[1].startswith(READ_ONLY_PREFIXES) or \
                action in ("sts:AssumeRole", "ecr:BatchGetImage")
    assert {statement["Sid"] for statement in policy["Statement"]
            if statement["Resource"] == "*"} == {"RightsizerReadOnly"}


def test_pricing_refresh_is_its_own_statement_only_when_asked():
    assert "pricing:GetProducts" not in granted(policy_document())
    with_refresh = policy_document(pricing_refresh=True)
    [statement] = [s for s in with_refresh["Statement"] if "pricing:GetProducts" in s["Action"]]
    assert statement == {"Sid": "PricingRefreshListPrices", "Effect": "Allow",
                         "Action": ["pricing:GetProducts"], "Resource": "*"}
    assert granted(with_refresh) - granted(policy_document()) == {"pricing:GetProducts"}


def test_nothing_unused_is_ever_granted_and_every_action_is_documented():
    everything = set()
    for config in (Config(), roles_config(organization=True),
                   _validate({"aws": {"regions": "all"}, "slack": {"secret_id": "x"},
                              "report": {"s3_bucket": "x-reports"}}, "t")):
        everything |= granted(policy_document(config, pricing_refresh=True))
    assert everything == all_actions()
    assert "ecs:ListTagsForResource" not in everything  # DescribeServices include=TAGS
    assert "rds:ListTagsForResource" not in everything  # DescribeDBInstances' TagList


def test_cli_prints_the_policy_of_the_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[aws]\nregions = ["eu-west-1"]\naccounts = ["{ACCOUNTS[0]}"]\n'
                      'role_name = "RightsizerReadOnly"\n'
                      f'[slack]\nsecret_id = "{SECRET_NAME}"\n')
    runner = CliRunner()
    result = runner.invoke(app, ["iam-policy", "--config", str(config)])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)
    assert policy == policy_document(_validate({
        "aws": {"regions": ["eu-west-1"], "accounts": [ACCOUNTS[0]],
                "role_name": "RightsizerReadOnly"}, "slack": {"secret_id": SECRET_NAME}}, "t"))
    assert allows(policy, "sts:AssumeRole", f"arn:aws:iam::{ACCOUNTS[0]}:role/RightsizerReadOnly")
    caller = json.loads(runner.invoke(app, ["iam-policy", "--config", str(config),
                                            "--principal", "caller"]).stdout)
    role = json.loads(runner.invoke(app, ["iam-policy", "--config", str(config),
                                          "--principal", "role"]).stdout)
    assert granted(caller) | granted(role) == granted(policy)
    assert "secretsmanager:GetSecretValue" in granted(caller) - granted(role)
    refresh = json.loads(runner.invoke(app, ["iam-policy", "--pricing-refresh"]).stdout)
    assert "pricing:GetProducts" in granted(refresh)


@pytest.mark.parametrize(("args", "expected"), [
    (["--principal", "role"], "assumes no role"),
    (["--principal", "admin"], "--principal"),
])
def test_cli_bad_principal_is_one_line_exit_2(tmp_path, args, expected):
    config = tmp_path / "config.toml"
    config.write_text("")
    result = CliRunner().invoke(app, ["iam-policy", "--config", str(config), *args])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert expected in line


def test_planned_operations_without_roles_is_one_principal():
    config = _validate({"aws": {"regions": ["eu-west-1"]}}, "test")
    assert planned_operations(config, CALLER) == planned_operations(config)
