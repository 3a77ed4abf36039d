"""ECS: clusters -> services -> task definition sizes and platforms, deployments and task sets,
capacity providers, load balancers, tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from botocore.exceptions import ClientError

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    chunks,
    error_code,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import (
    CollectorSpec,
    Inventory,
    MetricResource,
    same_name,
    schema,
)

SERVICE = "ecs"
# Without a window start, the revision before a PRIMARY deployment is read when that deployment
# started within this many days (the default lookback is 14): one more DescribeTaskDefinition
# per recently deployed service, none for the rest.
RECENT_DEPLOYMENT_DAYS = 31

TaskDefinitionInfo = dict[str, Any]  # cpu, memory, os_family, cpu_architecture (as ECS says)


def collect_services(target: Target, errors: ErrorLog,
                     since: datetime | None = None) -> list[dict[str, Any]]:
    """One row per ACTIVE/DRAINING service. `since` (the metric window's start) decides which
    PRIMARY deployments are recent enough for the revision before them to be read."""
    ecs = target.client("ecs")
    rows: list[dict[str, Any]] = []
    cluster_arns: list[str] = []
    with recorded_failure(errors, target.account, target.region, SERVICE, "ListClusters"):
        for page in ecs.get_paginator("list_clusters").paginate():
            cluster_arns.extend(page.get("clusterArns", []))
    task_definitions: dict[str, TaskDefinitionInfo] = {}
    recent = since or datetime.now(UTC) - timedelta(days=RECENT_DEPLOYMENT_DAYS)
    for batch in chunks(cluster_arns, 100):  # DescribeClusters takes up to 100 clusters
        clusters: list[dict[str, Any]] = []
        with recorded_failure(errors, target.account, target.region, SERVICE,
                              "DescribeClusters"):
            clusters = ecs.describe_clusters(clusters=batch, include=["SETTINGS"])["clusters"]
        for cluster in clusters:
            rows.extend(_cluster_services(target, errors, cluster, task_definitions, recent))
    return rows


def _container_insights(cluster: dict[str, Any]) -> bool:
    return any(
        setting.get("name") == "containerInsights" and setting.get("value") in ("enabled",
                                                                               "enhanced")
        for setting in cluster.get("settings", [])
    )


def _cluster_services(target: Target, errors: ErrorLog, cluster: dict[str, Any],
                      task_definitions: dict[str, TaskDefinitionInfo],
                      recent: datetime) -> list[dict[str, Any]]:
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
    # Every task definition a service, a deployment or a task set names, each described once
    # and in parallel: most services have their own, and one after another they were most of an
    # ECS region's time.
    _describe_all(target, errors, task_definitions,
                  [arn for service in services for arn in _referenced(service)])
    # The revision before each recent PRIMARY one: a rollout inside the window (or the sizing
    # history before it) may have changed the size the utilization metrics are relative to.
    _describe_all(target, errors, task_definitions,
                  [arn for service in services
                   if (arn := _previous_wanted(service, recent))],
                  missing_ok=True)
    rows = []
    for service in services:
        task_definition = service.get("taskDefinition", "")
        info = task_definitions.get(task_definition, {})
        rows.append({
            "account": target.account,
            "region": target.region,
            "cluster": cluster_name,
            "service": service["serviceName"],
            "service_arn": service["serviceArn"],
            "task_definition": task_definition,
            "cpu_units": info.get("cpu", ""),
            "memory_mib": info.get("memory", ""),
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
            "deployment_controller": str(
                (service.get("deploymentController") or {}).get("type", "")),
            "scheduling_strategy": str(service.get("schedulingStrategy", "")),
            "platform_version": str(service.get("platformVersion", "")),
            "os_family": info.get("os_family", ""),
            "cpu_architecture": info.get("cpu_architecture", ""),
            "deployments": to_json(_deployments(service, task_definitions, recent)),
            "container_images": to_json(info.get("images", [])),
        })
    return rows


def _referenced(service: dict[str, Any]) -> list[str]:
    arns = [service.get("taskDefinition", "")]
    arns += [item.get("taskDefinition", "") for key in ("deployments", "taskSets")
             for item in service.get(key) or []]
    return [arn for arn in arns if arn]


def _describe_all(target: Target, errors: ErrorLog, known: dict[str, TaskDefinitionInfo],
                  arns: list[str], *, missing_ok: bool = False) -> None:
    unseen = list(dict.fromkeys(arn for arn in arns if arn not in known))
    known.update(zip(unseen, target.map(
        lambda arn: _describe(target, errors, arn, missing_ok=missing_ok), unseen), strict=True))


def _describe(target: Target, errors: ErrorLog, arn: str, *,
              missing_ok: bool = False) -> TaskDefinitionInfo:
    """Task-level size and platform as ECS returns them (cpu/memory strings such as "1024";
    runtimePlatform fields "" when the definition has none, which ECS reads as LINUX/X86_64).
    {"unavailable": True} when it could not be read."""
    try:
        definition = target.client("ecs").describe_task_definition(
            taskDefinition=arn)["taskDefinition"]
    except ClientError as exc:
        # a revision that was deleted answers ClientException: for the revision before a
        # deployment that is an answer (not known), not a failure of the run
        if not (missing_ok and error_code(exc) == "ClientException"):
            errors.add_exception(target.account, target.region, SERVICE,
                                 "DescribeTaskDefinition", exc)
        return {"unavailable": True}
    except Exception as exc:  # noqa: BLE001 - an odd response must not end the run
        errors.add_exception(target.account, target.region, SERVICE, "DescribeTaskDefinition",
                             exc)
        return {"unavailable": True}
    platform = definition.get("runtimePlatform") or {}
    return {
        "cpu": str(definition.get("cpu", "") or ""),
        "memory": str(definition.get("memory", "") or ""),
        "os_family": str(platform.get("operatingSystemFamily", "") or ""),
        "cpu_architecture": str(platform.get("cpuArchitecture", "") or ""),
        # every container's image: whether the task could run on ARM64 (graviton-migration)
        "images": [str(container.get("image") or "")
                   for container in definition.get("containerDefinitions") or []
                   if isinstance(container, dict)],
    }


def _previous_revision(arn: str) -> str | None:
    """arn:...:task-definition/family:7 -> arn:...:task-definition/family:6 (None for :1)."""
    head, _, revision = arn.rpartition(":")
    if not head or not revision.isdigit() or int(revision) <= 1:
        return None
    return f"{head}:{int(revision) - 1}"


def _primary(service: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for key in ("deployments", "taskSets"):
        for item in service.get(key) or []:
            if item.get("status") == "PRIMARY":
                return key, item
    return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _previous_wanted(service: dict[str, Any], recent: datetime) -> str | None:
    """The revision to read before a recent PRIMARY deployment, when no ACTIVE deployment
    still names the one it replaced."""
    found = _primary(service)
    if found is None:
        return None
    key, primary = found
    created = _as_datetime(primary.get("createdAt"))
    if created is None or created < recent:
        return None
    others = [item for item in service.get(key) or [] if item is not primary]
    if others:
        return None  # the deployment it replaces is still listed, with its own definition
    return _previous_revision(str(primary.get("taskDefinition", "")))


def _deployments(service: dict[str, Any], known: dict[str, TaskDefinitionInfo],
                 recent: datetime) -> list[dict[str, Any]]:
    """Deployments (rolling-update, ECS controller) or task sets (CODE_DEPLOY / EXTERNAL) in
    one shape: what ran, how many tasks each had, and each one's task size and platform.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html"""
    out: list[dict[str, Any]] = []
    for key, kind in (("deployments", "deployment"), ("taskSets", "task_set")):
        for item in service.get(key) or []:
            arn = str(item.get("taskDefinition", ""))
            created = _as_datetime(item.get("createdAt"))
            entry: dict[str, Any] = {
                "kind": kind,
                "id": str(item.get("id", "")),
                "status": str(item.get("status", "")),
                "task_definition": arn,
                "running_count": int(item.get("runningCount", 0) or 0),
                "desired_count": int(item.get("desiredCount",
                                              item.get("computedDesiredCount", 0)) or 0),
                # rolling updates say IN_PROGRESS/COMPLETED/FAILED; task sets have a stability
                # status (STEADY_STATE/STABILIZING) instead
                "rollout_state": str(item.get("rolloutState") or
                                     item.get("stabilityStatus") or ""),
                "created_at": created.isoformat() if created else "",
                "launch_type": str(item.get("launchType", "")),
                "capacity_provider_strategy": item.get("capacityProviderStrategy") or [],
                **_size_of(known.get(arn)),
            }
            out.append(entry)
    primary = next((entry for entry in out if entry["status"] == "PRIMARY"), None)
    if primary is not None:
        wanted = _previous_wanted(service, recent)
        if wanted is not None:
            primary["previous"] = {"task_definition": wanted, **_size_of(known.get(wanted))}
    return out


def _size_of(info: TaskDefinitionInfo | None) -> dict[str, Any]:
    if not info or info.get("unavailable"):
        return {"unavailable": True}
    return {key: info.get(key, "") for key in ("cpu", "memory", "os_family", "cpu_architecture")}


def _service_dimensions(_metric: str, row: Any) -> tuple[tuple[tuple[str, str], ...], str]:
    return ((("ClusterName", row["cluster"]), ("ServiceName", row["service"])),
            f"{row['cluster']}/{row['service']}")


SPECS = (
    CollectorSpec(
        table="ecs_services", label="ecs",
        schema=schema(
            "account", "region", "cluster", "service", "service_arn", "task_definition",
            "cpu_units", "memory_mib", "launch_type", "capacity_provider_strategy",
            "cluster_default_strategy", "load_balancer_count", "desired_count",
            "running_count", "tags", "created_at", "container_insights",
            "deployment_controller", "scheduling_strategy", "platform_version", "os_family",
            "cpu_architecture", "deployments", "container_images",
            load_balancer_count=pa.int64(), desired_count=pa.int64(),
            running_count=pa.int64(), container_insights=pa.bool_()),
        operations=same_name("ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices",
                             "ecs:DescribeServices", "ecs:DescribeTaskDefinition"),
        # the revision before a PRIMARY deployment that started inside the sizing history
        collect=lambda target, errors, run: collect_services(
            target, errors, run.history_start or run.window_start),
        id_column="service_arn",
        inventory=Inventory("ecs-service", "ECS services", "ecs:ListClusters"),
        metric_resources=(
            MetricResource("ecs-service", _service_dimensions),
            # Container Insights metrics exist only where it is enabled
            MetricResource("ecs-service-insights", _service_dimensions,
                           applies=lambda row: bool(row.get("container_insights"))),
        ),
    ),
)
