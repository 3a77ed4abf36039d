"""CloudFront: every distribution with what decides its fixed cost, for cloudfront-idle.

CloudFront is global: the distributions are listed once an account, and their metrics are
read from us-east-1 ("To get the CloudFront metrics from the CloudWatch API, you must use the
US East (N. Virginia) Region", as cdk-monitoring-constructs quotes
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html)
with the dimensions DistributionId and Region, whose value "must be Global" (aws-cdk-lib's
CloudFrontMetrics.requestsSum takes exactly these two; @pulumi/awsx documents the value).

Operations (CloudFront API reference):
- ListDistributions (paginated by Marker / NextMarker): DistributionList.Items, each a
  DistributionSummary (Id, ARN, Status, LastModifiedTime, DomainName, Aliases, Enabled,
  ViewerCertificate, WebACLId, PriceClass, Comment); Items is absent from an empty list.
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListDistributions.html
- ListTagsForResource (one distribution a call; CloudFront has no batch tag read).
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListTagsForResource.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import (
    AWS_FAILURES,
    GLOBAL_REGION,
    ErrorLog,
    Target,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, same_name, schema

SERVICE = "cloudfront"
METRIC_REGION = "us-east-1"


def collect_distributions(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    client = target.client("cloudfront", METRIC_REGION)
    summaries: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, GLOBAL_REGION, SERVICE, "ListDistributions"):
        for page in client.get_paginator("list_distributions").paginate():
            summaries.extend((page.get("DistributionList") or {}).get("Items") or [])

    def tags(summary: Mapping[str, Any]) -> dict[str, str] | None:
        try:
            answer = client.list_tags_for_resource(Resource=summary["ARN"])
        except AWS_FAILURES as exc:
            errors.add_exception(target.account, GLOBAL_REGION, SERVICE, "ListTagsForResource",
                                 exc)
            return None
        return tags_to_dict((answer.get("Tags") or {}).get("Items"))

    summaries = [summary for summary in summaries if summary.get("Id") and summary.get("ARN")]
    return [_row(target, summary, found)
            for summary, found in zip(summaries, target.map(tags, summaries), strict=True)]


def _row(target: Target, summary: Mapping[str, Any],
         tags: dict[str, str] | None) -> dict[str, Any]:
    certificate = summary.get("ViewerCertificate") or {}
    return {
        "account": target.account,
        "region": GLOBAL_REGION,
        "metric_region": METRIC_REGION,
        "distribution_id": str(summary["Id"]),
        "arn": str(summary["ARN"]),
        "domain_name": str(summary.get("DomainName") or ""),
        "aliases": to_json((summary.get("Aliases") or {}).get("Items") or []),
        "comment": str(summary.get("Comment") or ""),
        "status": str(summary.get("Status") or ""),
        "enabled": bool(summary.get("Enabled", False)),
        "last_modified": str(summary.get("LastModifiedTime") or ""),
        "price_class": str(summary.get("PriceClass") or ""),
        # "vip" is the dedicated-IP custom SSL that bills a monthly fee; "sni-only" and the
        # default *.cloudfront.net certificate bill nothing of their own.
        "ssl_support_method": str(certificate.get("SSLSupportMethod") or ""),
        "certificate": str(certificate.get("ACMCertificateArn")
                           or certificate.get("IAMCertificateId") or ""),
        "web_acl_id": str(summary.get("WebACLId") or ""),
        "tags_known": tags is not None,
        "tags": to_json(tags or {}),
    }


def _dimensions(_metric: str, row: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...], str]:
    return ((("DistributionId", str(row["distribution_id"])), ("Region", "Global")),
            str(row["distribution_id"]))


SPECS = (
    CollectorSpec(
        table="cloudfront_distributions", label="cloudfront",
        schema=schema(
            "account", "region", "metric_region", "distribution_id", "arn", "domain_name",
            "aliases", "comment", "status", "enabled", "last_modified", "price_class",
            "ssl_support_method", "certificate", "web_acl_id", "tags_known", "tags",
            enabled=pa.bool_(), tags_known=pa.bool_()),
        operations=same_name(f"{SERVICE}:ListDistributions", f"{SERVICE}:ListTagsForResource"),
        collect=lambda target, errors, _run: collect_distributions(target, errors),
        scope="account",
        id_column="arn",
        inventory=Inventory("cloudfront-distribution", "CloudFront distributions",
                            f"{SERVICE}:ListDistributions"),
        metric_resources=(MetricResource("cloudfront-distribution", _dimensions),),
    ),
)
