"""The least-privilege, read-only IAM policy for exactly the calls rightsizer makes."""

from __future__ import annotations

import json

# botocore operation (as CallRecorder names it) -> IAM action. Most are the same name; S3 and a
# few others differ. Keep in sync with the collectors: a test runs the pipeline and checks every
# recorded call against this table.
API_TO_IAM_ACTION: dict[str, str] = {
    "sts:GetCallerIdentity": "sts:GetCallerIdentity",
    "ec2:DescribeRegions": "ec2:DescribeRegions",
    "ecs:ListClusters": "ecs:ListClusters",
    "ecs:DescribeClusters": "ecs:DescribeClusters",
    "ecs:ListServices": "ecs:ListServices",
    "ecs:DescribeServices": "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition": "ecs:DescribeTaskDefinition",
    "ecs:ListTagsForResource": "ecs:ListTagsForResource",
    "cloudwatch:GetMetricData": "cloudwatch:GetMetricData",
    "rds:DescribeDBInstances": "rds:DescribeDBInstances",
    "rds:DescribeReservedDBInstances": "rds:DescribeReservedDBInstances",
    "rds:ListTagsForResource": "rds:ListTagsForResource",
    "elasticache:DescribeCacheClusters": "elasticache:DescribeCacheClusters",
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketLocation": "s3:GetBucketLocation",
    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "s3:GetBucketTagging": "s3:GetBucketTagging",
    "tag:GetResources": "tag:GetResources",
    "elasticache:DescribeReservedCacheNodes": "elasticache:DescribeReservedCacheNodes",
    "application-autoscaling:DescribeScalableTargets":
        "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies":
        "application-autoscaling:DescribeScalingPolicies",
    "logs:DescribeLogGroups": "logs:DescribeLogGroups",
    "ce:GetCostAndUsage": "ce:GetCostAndUsage",
    "ce:GetReservationUtilization": "ce:GetReservationUtilization",
    "ce:GetReservationCoverage": "ce:GetReservationCoverage",
    "ce:GetReservationPurchaseRecommendation": "ce:GetReservationPurchaseRecommendation",
    "organizations:ListAccounts": "organizations:ListAccounts",
    "sts:AssumeRole": "sts:AssumeRole",
    "secretsmanager:GetSecretValue": "secretsmanager:GetSecretValue",
    # only `rightsizer pricing refresh` (public list prices, no account data)
    "pricing:GetProducts": "pricing:GetProducts",
}

READ_ONLY_PREFIXES = ("Describe", "List", "Get")


def iam_action_for(operation: str) -> str | None:
    return API_TO_IAM_ACTION.get(operation)


def policy_document() -> dict:
    actions = sorted(set(API_TO_IAM_ACTION.values()))
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RightsizerReadOnly",
            "Effect": "Allow",
            "Action": actions,
            # These read APIs do not support resource-level permissions.
            "Resource": "*",
        }],
    }


def policy_json() -> str:
    return json.dumps(policy_document(), indent=2)
