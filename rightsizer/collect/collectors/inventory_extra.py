"""Inventory beyond the core rules: autoscaling, ElastiCache reservations, log groups."""

from __future__ import annotations

from typing import Any

from rightsizer.collect.collectors.base import ErrorLog, Target, recorded_failure, to_json


def collect_ecs_scaling(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    """Application Auto Scaling targets and policies of ECS services (desired count)."""
    client = target.client("application-autoscaling")
    targets: dict[str, dict[str, Any]] = {}
    with recorded_failure(errors, target.account, target.region, "application-autoscaling",
                          "DescribeScalableTargets"):
        paginator = client.get_paginator("describe_scalable_targets")
        for page in paginator.paginate(ServiceNamespace="ecs"):
            for item in page.get("ScalableTargets", []):
                targets[item["ResourceId"]] = {
                    "account": target.account, "region": target.region,
                    "resource_id": item["ResourceId"],  # service/<cluster>/<service>
                    "min_capacity": int(item.get("MinCapacity", 0)),
                    "max_capacity": int(item.get("MaxCapacity", 0)),
                    "policies": [],
                }
    if targets:
        with recorded_failure(errors, target.account, target.region, "application-autoscaling",
                              "DescribeScalingPolicies"):
            paginator = client.get_paginator("describe_scaling_policies")
            for page in paginator.paginate(ServiceNamespace="ecs"):
                for policy in page.get("ScalingPolicies", []):
                    row = targets.get(policy.get("ResourceId", ""))
                    if row is None:
                        continue
                    config = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
                    metric = (config.get("PredefinedMetricSpecification") or {}).get(
                        "PredefinedMetricType", "")
                    row["policies"].append({
                        "name": policy.get("PolicyName", ""),
                        "type": policy.get("PolicyType", ""),
                        "metric": metric,
                        "target_value": config.get("TargetValue"),
                        "scale_in_cooldown": config.get("ScaleInCooldown"),
                        "scale_out_cooldown": config.get("ScaleOutCooldown"),
                    })
    return [{**row, "policies": to_json(row["policies"])} for row in targets.values()]


def collect_cache_reservations(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, "elasticache",
                          "DescribeReservedCacheNodes"):
        paginator = target.client("elasticache").get_paginator("describe_reserved_cache_nodes")
        for page in paginator.paginate():
            for node in page.get("ReservedCacheNodes", []):
                rows.append({
                    "account": target.account, "region": target.region,
                    "reservation_id": node.get("ReservedCacheNodeId", ""),
                    "node_type": node.get("CacheNodeType", ""),
                    "product_description": node.get("ProductDescription", ""),
                    "state": node.get("State", ""),
                    "node_count": int(node.get("CacheNodeCount", 1) or 1),
                    "start_time": str(node.get("StartTime", "")),
                    "duration_seconds": int(node.get("Duration", 0) or 0),
                    "offering_type": node.get("OfferingType", ""),
                })
    return rows


def collect_log_groups(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, "logs", "DescribeLogGroups"):
        paginator = target.client("logs").get_paginator("describe_log_groups")
        for page in paginator.paginate():
            for group in page.get("logGroups", []):
                rows.append({
                    "account": target.account, "region": target.region,
                    "log_group": group["logGroupName"],
                    "arn": group.get("arn", group["logGroupName"]).removesuffix(":*"),
                    "retention_days": int(group.get("retentionInDays") or 0),
                    "stored_bytes": int(group.get("storedBytes") or 0),
                    "created_at": str(group.get("creationTime", "")),
                    "log_group_class": group.get("logGroupClass", "STANDARD"),
                })
    return rows
