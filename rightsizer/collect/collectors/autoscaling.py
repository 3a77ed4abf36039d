"""Application Auto Scaling: the scalable targets and policies of ECS services."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import ErrorLog, Target, recorded_failure, to_json
from rightsizer.collect.spec import CollectorSpec, same_name, schema


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


SPECS = (
    CollectorSpec(
        table="autoscaling_targets", label="autoscaling",
        schema=schema("account", "region", "resource_id", "min_capacity", "max_capacity",
                      "policies", min_capacity=pa.int64(), max_capacity=pa.int64()),
        operations=same_name("application-autoscaling:DescribeScalableTargets",
                             "application-autoscaling:DescribeScalingPolicies"),
        collect=lambda target, errors, _run: collect_ecs_scaling(target, errors),
    ),
)
