"""Route 53: health checks and what each one checks, for route53-orphan-health-check.

Health checks are global (an account's are listed once). Their HealthCheckStatus metric
(AWS/Route53, dimension HealthCheckId as aws-cdk's Route53Metrics names it; 1 healthy, 0
unhealthy) is read from us-east-1 as CloudFront's global metrics are: no page seen here states
the region for Route 53, so a series that is not there counts as unknown (the rule then skips
the check), never as failing.

Operations (Route 53 API reference):
- ListHealthChecks (paginated by Marker / NextMarker): HealthChecks, each with Id and a
  HealthCheckConfig (Type; IPAddress and/or FullyQualifiedDomainName; Port, ResourcePath,
  RequestInterval, MeasureLatency, Inverted, Disabled).
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHealthChecks.html
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
- ListTagsForResources (ResourceType "healthcheck", up to 10 ids a call).
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListTagsForResources.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import (
    GLOBAL_REGION,
    ErrorLog,
    Target,
    chunks,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, same_name, schema

SERVICE = "route53"
METRIC_REGION = "us-east-1"
TAGS_PER_CALL = 10  # ListTagsForResources: "up to 10" ResourceIds


def health_check_arn(health_check_id: str) -> str:
    return f"arn:aws:route53:::healthcheck/{health_check_id}"


def collect_health_checks(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    client = target.client("route53", METRIC_REGION)
    checks: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, GLOBAL_REGION, SERVICE, "ListHealthChecks"):
        for page in client.get_paginator("list_health_checks").paginate():
            checks.extend(check for check in page.get("HealthChecks") or [] if check.get("Id"))
    tags: dict[str, dict[str, str]] = {}  # a failed read keeps the batches read before it
    with recorded_failure(errors, target.account, GLOBAL_REGION, SERVICE,
                          "ListTagsForResources"):
        for batch in chunks([str(check["Id"]) for check in checks], TAGS_PER_CALL):
            answer = client.list_tags_for_resources(ResourceType="healthcheck",
                                                    ResourceIds=batch)
            for tag_set in answer.get("ResourceTagSets") or []:
                tags[str(tag_set.get("ResourceId"))] = tags_to_dict(tag_set.get("Tags"))
    return [_row(target, check, tags) for check in checks]


def _row(target: Target, check: Mapping[str, Any],
         tags: dict[str, dict[str, str]]) -> dict[str, Any]:
    config = check.get("HealthCheckConfig") or {}
    check_id = str(check["Id"])
    check_tags = tags.get(check_id, {})
    return {
        "account": target.account,
        "region": GLOBAL_REGION,
        "metric_region": METRIC_REGION,
        "health_check_id": check_id,
        "arn": health_check_arn(check_id),
        "name": check_tags.get("Name", ""),
        "type": str(config.get("Type") or ""),
        "ip_address": str(config.get("IPAddress") or ""),
        "fqdn": str(config.get("FullyQualifiedDomainName") or "").rstrip(".").lower(),
        "port": int(config.get("Port") or 0),
        "resource_path": str(config.get("ResourcePath") or ""),
        "request_interval": int(config.get("RequestInterval") or 30),  # the API's default
        "measure_latency": bool(config.get("MeasureLatency", False)),
        "inverted": bool(config.get("Inverted", False)),
        "disabled": bool(config.get("Disabled", False)),
        "tags": to_json(check_tags),
    }


def _dimensions(_metric: str, row: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...], str]:
    return (("HealthCheckId", str(row["health_check_id"])),), str(row["health_check_id"])


SPECS = (
    CollectorSpec(
        table="route53_health_checks", label="route 53",
        schema=schema(
            "account", "region", "metric_region", "health_check_id", "arn", "name", "type",
            "ip_address", "fqdn", "port", "resource_path", "request_interval",
            "measure_latency", "inverted", "disabled", "tags",
            port=pa.int64(), request_interval=pa.int64(), measure_latency=pa.bool_(),
            inverted=pa.bool_(), disabled=pa.bool_()),
        operations=same_name(f"{SERVICE}:ListHealthChecks", f"{SERVICE}:ListTagsForResources"),
        collect=lambda target, errors, _run: collect_health_checks(target, errors),
        scope="account",
        id_column="arn",
        inventory=Inventory("route53-health-check", "Route 53 health checks",
                            f"{SERVICE}:ListHealthChecks"),
        metric_resources=(MetricResource("route53-health-check", _dimensions),),
    ),
)
