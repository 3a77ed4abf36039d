"""The least-privilege, read-only IAM policy for exactly the calls a configured run makes.

`policy_document(config)` derives it from the config, the same way collect.py plans a run:

- the caller's identity (sts:GetCallerIdentity), and ec2:DescribeRegions only for
  `regions = "all"`;
- the inventory reads: every collector runs whatever rules are enabled (collect.py does not
  plan collectors from rules), so these are always granted;
- cloudwatch:GetMetricData only when an enabled rule reads a metric (collect.metric_needs);
- Cost Explorer where `[aws] cost_explorer` asks it: the caller, each account's role, or both
  (in caller mode an account the caller's answer does not show is asked with its role);
- organizations:ListAccounts only with `organization = true`;
- sts:AssumeRole only when roles are assumed, on those roles only;
- secretsmanager:GetSecretValue only with `[slack] secret_id`, on that secret only;
- s3:PutObject (and s3:GetObject, which the presigned link acts with) only with `[report]
  s3_bucket`, on <bucket>/<s3_prefix>* only: publishing report.html for the Slack link is
  rightsizer's one write, opt-in;
- pricing:GetProducts only when asked (`pricing_refresh=True`, `iam-policy --pricing-refresh`):
  `rightsizer pricing refresh` is the only command that calls it, never `analyze`, and the
  config says nothing about it, so the analyze policy leaves it out.

With roles assumed there are two principals: the credentials rightsizer runs with ("caller")
and the role it assumes in each account ("role"). `principal="all"` is one policy holding both
shares (one account, or one policy attached on both sides); "caller" and "role" print each
share on its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rightsizer.aws.clients import CALLER, ROLE
from rightsizer.collect.registry import spec_for
from rightsizer.collect.registry import specs as collector_specs
from rightsizer.config import Config

# botocore operation (as CallRecorder names it) -> IAM action, for the calls no collector makes;
# each collector's spec maps its own (collect/spec.py). tests/test_iam_policy.py runs the
# pipeline for several configs and checks every recorded call against the derived policy, and
# that the policy grants nothing the run could not call.
_RUN_ACTIONS: dict[str, str] = {
    "sts:GetCallerIdentity": "sts:GetCallerIdentity",
    "ec2:DescribeRegions": "ec2:DescribeRegions",
    "organizations:ListAccounts": "organizations:ListAccounts",
    "sts:AssumeRole": "sts:AssumeRole",
    "secretsmanager:GetSecretValue": "secretsmanager:GetSecretValue",
    # only `rightsizer pricing refresh` (public list prices, no account data)
    "pricing:GetProducts": "pricing:GetProducts",
    # only with [report] s3_bucket (integrations/report_upload.py)
    "s3:PutObject": "s3:PutObject",
    "s3:GetObject": "s3:GetObject",
}
API_TO_IAM_ACTION: dict[str, str] = {
    **_RUN_ACTIONS,
    **{operation: action for spec in collector_specs()
       for operation, action in spec.operations.items()},
}

READ_ONLY_PREFIXES = ("Describe", "List", "Get")
PRINCIPALS = ("all", CALLER, ROLE)

# What each part of a run calls (CallRecorder names; see collect.py and the collectors).
IDENTITY = ("sts:GetCallerIdentity",)
REGION_LIST = ("ec2:DescribeRegions",)  # regions = "all"
# the inventory collectors: every one runs whatever rules are enabled
INVENTORY = tuple(operation for spec in collector_specs() if spec.collect is not None
                  for operation in spec.operations)
# the collectors the engine drives: planned from the rules' needs and [aws] cost_explorer
METRICS = tuple(spec_for("metrics").operations)
COST_AND_USAGE = tuple(spec_for("costs").operations)
# the reservation and Savings Plans reads: the same accounts, asked the same way
RESERVATION_INSIGHTS = (tuple(spec_for("ce_insights").operations)
                        + tuple(spec_for("sp_insights").operations))
ORGANIZATION = ("organizations:ListAccounts",)
ASSUME_ROLE = "sts:AssumeRole"
SLACK_SECRET = "secretsmanager:GetSecretValue"
PRICING_REFRESH = "pricing:GetProducts"
# Uploading the report is the one write; a presigned GET link works only if its signer may
# GetObject (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html:
# "The credentials used by the presigned URL are those of the ... principal who generated it").
REPORT_PUBLISH = ("s3:PutObject", "s3:GetObject")

# Every read is granted on "*": rightsizer reads every cluster, service, database, cache,
# bucket and reservation of the account, including ones created after the policy, and IAM
# requires "*" for an action whose Service Authorization Reference entry names no resource
# type ("If there is no value for this column, you must specify all resources ("*")"):
# https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
# Only the two calls that name one resource are scoped: the role it assumes and the secret.

# A Secrets Manager secret's ARN ends in "-" and 6 random characters; "??????" matches exactly
# those six, where "*" would also match another secret whose name merely starts the same:
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/permissions_grant-limited-resources.html
_SECRET_ARN = re.compile(r"^arn:([^:]+):secretsmanager:([^:]*):([^:]*):secret:(.+)$")
_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def iam_action_for(operation: str) -> str | None:
    return API_TO_IAM_ACTION.get(operation)


def all_actions() -> set[str]:
    """Every action any config can be granted (docs/security.md lists each)."""
    return set(API_TO_IAM_ACTION.values())


def _partitions(config: Config) -> list[str]:
    regions = config.aws.regions
    if not isinstance(regions, list):  # "all" is listed from us-east-1; None: the session's
        return ["aws"]
    return sorted({"aws-cn" if region.startswith("cn-") else
                   "aws-us-gov" if region.startswith("us-gov-") else "aws"
                   for region in regions})


def role_arns(config: Config) -> list[str]:
    """The roles sts:AssumeRole may assume: the role in each listed account, or in any account
    with organization = true (the organization's members are only known at run time)."""
    name = config.aws.role_name
    accounts = ["*"] if config.aws.organization else list(config.aws.accounts)
    return [f"arn:{partition}:iam::{account}:role/{name}"
            for partition in _partitions(config) for account in accounts]


def secret_arn(secret_id: str, partition: str = "aws") -> str:
    """The one secret `[slack] secret_id` names, as an IAM resource.

    A full ARN is used as given; a partial ARN (no random suffix) and a plain name get "-??????"
    for the suffix. A plain name is looked up in the session's default region and account,
    which the policy cannot know, hence "*" for both."""
    match = _SECRET_ARN.match(secret_id)
    if match:
        name = match.group(4)
        return secret_id if _RANDOM_SUFFIX.search(name) else f"{secret_id}-??????"
    return f"arn:{partition}:secretsmanager:*:*:secret:{secret_id}-??????"


def report_objects_arn(config: Config) -> str:
    """The keys `[report] s3_bucket` / `s3_prefix` name, the only objects rightsizer writes."""
    return (f"arn:{_partitions(config)[0]}:s3:::{config.report.s3_bucket}/"
            f"{config.report.s3_prefix}*")


def planned_operations(config: Config, principal: str = "all", *,
                       pricing_refresh: bool = False) -> set[str]:
    """The operations (CallRecorder names) a run of `config` can make as `principal`."""
    from rightsizer.collect.engine import cost_explorer_from_caller, metric_needs

    if principal not in PRINCIPALS:
        raise ValueError(f"principal must be one of {PRINCIPALS}, got {principal!r}")
    roles = config.aws.assumes_roles
    caller = principal in ("all", CALLER)
    # Without roles the caller reads its own account: it is both principals.
    reader = principal in ("all", ROLE) or not roles
    operations: set[str] = set()
    if caller:
        operations.update(IDENTITY)
        if config.aws.regions == "all":
            operations.update(REGION_LIST)
        if config.aws.organization:
            operations.update(ORGANIZATION)
        if roles:
            operations.add(ASSUME_ROLE)
        if config.slack.secret_id:
            operations.add(SLACK_SECRET)
        if pricing_refresh:
            operations.add(PRICING_REFRESH)
        if config.report.s3_bucket:
            operations.update(REPORT_PUBLISH)
    if reader:
        operations.update(INVENTORY)
        if metric_needs(config):
            operations.update(METRICS)
    from_caller = cost_explorer_from_caller(config)
    if not roles:
        if caller or reader:
            operations.update(COST_AND_USAGE + RESERVATION_INSIGHTS)
    else:
        if caller and from_caller:
            operations.update(COST_AND_USAGE + RESERVATION_INSIGHTS)
        if principal in ("all", ROLE):
            # each-account: every account's own costs; caller mode: the accounts the caller's
            # answer does not show are asked directly (collect.collect_snapshot)
            operations.update(COST_AND_USAGE)
            if not from_caller:
                operations.update(RESERVATION_INSIGHTS)
    return operations


def _statement(sid: str, actions: set[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource}


def policy_document(config: Config | None = None, *, principal: str = "all",
                    pricing_refresh: bool = False) -> dict[str, Any]:
    """The policy for `config` (default: all defaults) and `principal`."""
    config = config or Config()
    operations = planned_operations(config, principal, pricing_refresh=pricing_refresh)
    actions = {API_TO_IAM_ACTION[operation] for operation in operations}
    scoped = {ASSUME_ROLE, SLACK_SECRET, PRICING_REFRESH, *REPORT_PUBLISH}
    reads = actions - scoped
    statements = []
    if reads:
        statements.append(_statement("RightsizerReadOnly", reads, "*"))
    if ASSUME_ROLE in actions:
        arns = role_arns(config)
        statements.append(_statement("AssumeRightsizerRole", {ASSUME_ROLE},
                                     arns[0] if len(arns) == 1 else arns))
    if SLACK_SECRET in actions:
        statements.append(_statement("ReadSlackWebhookSecret", {SLACK_SECRET}, secret_arn(
            str(config.slack.secret_id), _partitions(config)[0])))
    if actions & set(REPORT_PUBLISH):
        statements.append(_statement("PublishReportForSlackLink", set(REPORT_PUBLISH),
                                     report_objects_arn(config)))
    if PRICING_REFRESH in actions:
        # only `rightsizer pricing refresh`: AWS's public list prices (no resource types)
        statements.append(_statement("PricingRefreshListPrices", {PRICING_REFRESH}, "*"))
    return {"Version": "2012-10-17", "Statement": statements}


def policy_json(config: Config | None = None, *, principal: str = "all",
                pricing_refresh: bool = False) -> str:
    return json.dumps(policy_document(config, principal=principal,
                                      pricing_refresh=pricing_refresh), indent=2)
