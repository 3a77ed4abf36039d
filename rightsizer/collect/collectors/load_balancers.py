"""Elastic Load Balancing (v2): Application, Network and Gateway load balancers with their
target groups' registered targets and health, for idle-load-balancer.

Operations (API reference, Elastic Load Balancing v2):
- DescribeLoadBalancers (paginated): every load balancer of the region with Type, State, ARN;
- DescribeTargetGroups (paginated): every target group with the LoadBalancerArns it serves;
- DescribeTargetHealth (one call a target group): each registered target and its TargetHealth
  State (initial | healthy | unhealthy | unhealthy.draining | unused | draining | unavailable);
- DescribeTags (up to 20 ARNs a call): the load balancers' tags, for suppression by tag.
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Operations.html
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import (
    AWS_FAILURES,
    ErrorLog,
    Target,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, same_name, schema

SERVICE = "elasticloadbalancing"
TAGS_PER_CALL = 20  # DescribeTags: "You can specify up to 20 resources in a single call."
# The CloudWatch namespace of each load balancer type that has a request/flow count.
METRIC_TYPES = ("application", "network")


def metric_dimension(arn: str) -> str:
    """The LoadBalancer dimension CloudWatch uses: the final part of the ARN after
    "loadbalancer/", e.g. "app/my-alb/50dc6c495c0c9188" ("net/..." for an NLB).
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html"""
    _, found, suffix = arn.partition(":loadbalancer/")
    return suffix if found else ""


def collect_load_balancers(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    client = target.client("elbv2")
    balancers: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeLoadBalancers"):
        for page in client.get_paginator("describe_load_balancers").paginate():
            balancers.extend(page.get("LoadBalancers", []))
    if not balancers:
        return []
    groups = _target_groups(target, errors, client)
    tags = _tags(target, errors, client, [lb["LoadBalancerArn"] for lb in balancers])
    return [_row(target, lb, groups, tags) for lb in balancers]


def _target_groups(target: Target, errors: ErrorLog, client: Any
                   ) -> dict[str, list[dict[str, Any]]] | None:
    """load balancer ARN -> its target groups, each with the health states of its targets;
    None when the target groups could not be read (then no load balancer can be judged)."""
    groups: list[dict[str, Any]] = []
    try:
        for page in client.get_paginator("describe_target_groups").paginate():
            groups.extend(page.get("TargetGroups", []))
    except AWS_FAILURES as exc:
        errors.add_exception(target.account, target.region, SERVICE, "DescribeTargetGroups",
                             exc)
        return None

    def health(group: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = client.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        except AWS_FAILURES as exc:
            errors.add_exception(target.account, target.region, SERVICE,
                                 "DescribeTargetHealth", exc)
            return {"arn": group["TargetGroupArn"], "states": None}
        states = Counter(str((desc.get("TargetHealth") or {}).get("State") or "unknown")
                         for desc in answer.get("TargetHealthDescriptions", []))
        return {"arn": group["TargetGroupArn"], "name": group.get("TargetGroupName", ""),
                "target_type": group.get("TargetType", ""), "states": dict(states)}

    by_balancer: dict[str, list[dict[str, Any]]] = {}
    # A target group attached to no load balancer has nothing to say about one: not read.
    attached = [group for group in groups if group.get("LoadBalancerArns")]
    for group, summary in zip(attached, target.map(health, attached), strict=True):
        for arn in group.get("LoadBalancerArns", []):
            by_balancer.setdefault(arn, []).append(summary)
    return by_balancer


def _tags(target: Target, errors: ErrorLog, client: Any, arns: list[str]
          ) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    with recorded_failure(errors, target.account, target.region, SERVICE, "DescribeTags"):
        for start in range(0, len(arns), TAGS_PER_CALL):
            answer = client.describe_tags(ResourceArns=arns[start:start + TAGS_PER_CALL])
            for description in answer.get("TagDescriptions", []):
                tags[description["ResourceArn"]] = tags_to_dict(description.get("Tags"))
    return tags


def _row(target: Target, lb: Mapping[str, Any],
         groups: dict[str, list[dict[str, Any]]] | None,
         tags: dict[str, dict[str, str]]) -> dict[str, Any]:
    arn = lb["LoadBalancerArn"]
    mine = None if groups is None else groups.get(arn, [])
    known = mine is not None and all(group["states"] is not None for group in mine)
    states: Counter[str] = Counter()
    for group in mine or []:
        states.update(group["states"] or {})
    return {
        "account": target.account,
        "region": target.region,
        "arn": arn,
        "name": lb.get("LoadBalancerName", ""),
        "type": lb.get("Type", ""),
        "scheme": lb.get("Scheme", ""),
        "dns_name": str(lb.get("DNSName") or "").lower(),  # what a Route 53 health check names
        "state": (lb.get("State") or {}).get("Code", ""),
        "created_at": str(lb.get("CreatedTime", "")),
        "metric_dimension": metric_dimension(arn),
        "targets_known": known,
        "target_group_count": len(mine or []),
        "registered_targets": sum(states.values()),
        "healthy_targets": states.get("healthy", 0),
        "target_states": json.dumps(dict(sorted(states.items()))),
        "target_groups": to_json([{"arn": group["arn"], "name": group.get("name", ""),
                                   "states": group["states"]} for group in mine or []]),
        "tags": to_json(tags.get(arn, {})),
    }


def _dimensions(_metric: str, row: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...], str]:
    return (("LoadBalancer", str(row["metric_dimension"])),), str(row["metric_dimension"])


SPECS = (
    CollectorSpec(
        table="load_balancers", label="load balancers",
        schema=schema(
            "account", "region", "arn", "name", "type", "scheme", "dns_name", "state",
            "created_at",
            "metric_dimension", "targets_known", "target_group_count", "registered_targets",
            "healthy_targets", "target_states", "target_groups", "tags",
            targets_known=pa.bool_(), target_group_count=pa.int64(),
            registered_targets=pa.int64(), healthy_targets=pa.int64()),
        operations=same_name(f"{SERVICE}:DescribeLoadBalancers",
                             f"{SERVICE}:DescribeTargetGroups",
                             f"{SERVICE}:DescribeTargetHealth", f"{SERVICE}:DescribeTags"),
        collect=lambda target, errors, _run: collect_load_balancers(target, errors),
        id_column="arn",
        inventory=Inventory("load-balancer", "load balancers",
                            f"{SERVICE}:DescribeLoadBalancers"),
        metric_resources=(MetricResource(
            "load-balancer", _dimensions,
            applies=lambda row: row.get("type") in METRIC_TYPES
            and bool(row.get("metric_dimension"))),),
    ),
)
