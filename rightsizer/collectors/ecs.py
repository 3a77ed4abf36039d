"""ECS: clusters -> services -> task definition sizes, capacity providers, load balancers, tags."""

from __future__ import annotations

from typing import Any

from rightsizer.collectors.base import (
    ErrorLog,
    Target,
    chunks,
    recorded_failure,
    tags_to_dict,
    to_json,
)

SERVICE = "ecs"


def collect_services(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    ecs = target.client("ecs")
    rows: list[dict[str, Any]] = []
    cluster_arns: list[str] = []
    with recorded_failure(errors, target.account, target.region, SERVICE, "ListClusters"):
        for page in ecs.get_paginator("list_clusters").paginate():
            cluster_arns.extend(page.get("clusterArns", []))
    task_sizes: dict[str, tuple[str, str]] = {}
    for batch in chunks(cluster_arns, 100):  # DescribeClusters takes up to 100 clusters
        clusters: list[dict[str, Any]] = []
        with recorded_failure(errors, target.account, target.region, SERVICE,
                              "DescribeClusters"):
            clusters = ecs.describe_clusters(clusters=batch, include=["SETTINGS"])["clusters"]
        for cluster in clusters:
            rows.extend(_cluster_services(target, errors, cluster, task_sizes))
    return rows


def _container_insights(cluster: dict[str, Any]) -> bool:
    return any(
        setting.get("name") == "containerInsights" and setting.get("value") in ("enabled",
                                                                               "enhanced")
        for setting in cluster.get("settings", [])
    )


def _cluster_services(target: Target, errors: ErrorLog, cluster: dict[str, Any],
                      task_sizes: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    ecs = target.client("ecs")
    cluster_arn, cluster_name = cluster["clusterArn"], cluster["clusterName"]
    service_arns: list[str] = []
    with recorded_failure(errors, target.account, target.region, SERVICE, "ListServices"):
        # ListServices pages 10 services by default; 100 is its maximum.
        for page in ecs.get_paginator("list_services").paginate(
                cluster=cluster_arn, PaginationConfig={"PageSize": 100}):
            service_arns.extend(page.get("serviceArns", []))
    described: list[dict[str, Any]] = []
    for batch in chunks(service_arns, 10):  # DescribeServices takes up to 10 services
        with recorded_failure(errors, target.account, target.region, SERVICE,
                              "DescribeServices"):
            described.extend(ecs.describe_services(cluster=cluster_arn, services=batch,
                                                   include=["TAGS"])["services"])
    # deleted services linger as INACTIVE for a while
    services = [service for service in described if service.get("status") != "INACTIVE"]
    # One DescribeTaskDefinition per task definition not seen yet, in parallel: most services
    # have their own, and one after another they were most of an ECS region's time.
    unseen = list(dict.fromkeys(
        arn for arn in (service.get("taskDefinition", "") for service in services)
        if arn and arn not in task_sizes))
    task_sizes.update(zip(unseen, target.map(
        lambda arn: _task_size(target, errors, arn, {}), unseen), strict=True))
    rows = []
    for service in services:
        cpu, memory = _task_size(target, errors, service.get("taskDefinition", ""),
                                 task_sizes)
        rows.append({
            "account": target.account,
            "region": target.region,
            "cluster": cluster_name,
            "service": service["serviceName"],
            "service_arn": service["serviceArn"],
            "task_definition": service.get("taskDefinition", ""),
            "cpu_units": cpu,
            "memory_mib": memory,
            "launch_type": service.get("launchType", ""),
            "capacity_provider_strategy": to_json(service.get("capacityProviderStrategy",
                                                              [])),
            "cluster_default_strategy": to_json(
                cluster.get("defaultCapacityProviderStrategy", [])),
            "load_balancer_count": len(service.get("loadBalancers", [])),
            "desired_count": int(service.get("desiredCount", 0)),
            "running_count": int(service.get("runningCount", 0)),
            "tags": to_json(tags_to_dict(service.get("tags"), "key", "value")),
            "created_at": str(service.get("createdAt", "")),
            "container_insights": _container_insights(cluster),
        })
    return rows


def _task_size(target: Target, errors: ErrorLog, task_definition: str,
               cache: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """Task-level cpu/memory as ECS returns them (strings such as "1024"); cached per ARN."""
    if not task_definition:
        return "", ""
    if task_definition not in cache:
        cache[task_definition] = ("", "")
        with recorded_failure(errors, target.account, target.region, SERVICE,
                              "DescribeTaskDefinition"):
            definition = target.client("ecs").describe_task_definition(
                taskDefinition=task_definition)["taskDefinition"]
            cache[task_definition] = (str(definition.get("cpu", "")),
                                      str(definition.get("memory", "")))
    return cache[task_definition]
