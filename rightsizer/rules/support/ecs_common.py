"""A typed view of one row of the ecs_services table, shared by the ECS rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from rightsizer import pricing
from rightsizer.rules.findings import Resource
from rightsizer.rules.support.fargate_sizes import (
    ARM64,
    LINUX,
    WINDOWS,
    architecture_of,
    is_valid_size,
    os_kind_of,
)
from rightsizer.snapshot.store import Snapshot, as_int, decode_json_cell, records

FARGATE_PROVIDERS = {"FARGATE", "FARGATE_SPOT"}


def size_text(cpu_units: int, memory_mib: int) -> str:
    """1024, 2048 -> "1 vCPU / 2 GB"."""
    return f"{cpu_units / 1024:g} vCPU / {memory_mib / 1024:g} GB"


def revision_name(task_definition: str) -> str:
    """arn:aws:ecs:r:a:task-definition/api:7 -> api:7 (a family:revision stays as it is)."""
    return task_definition.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TaskSize:
    """What one task definition asks Fargate for: task-level size and runtime platform, as ECS
    returns them ("" for an absent runtimePlatform field: LINUX / X86_64)."""

    cpu_units: int
    memory_mib: int
    os_family: str = ""
    cpu_architecture: str = ""

    @property
    def os_kind(self) -> str | None:
        return os_kind_of(self.os_family)

    @property
    def arch(self) -> str | None:
        return architecture_of(self.cpu_architecture)

    def same_as(self, other: TaskSize) -> bool:
        """Same size on the same platform: the metrics of both are relative to the same task."""
        return (self.cpu_units, self.memory_mib, self.os_kind, self.arch) == (
            other.cpu_units, other.memory_mib, other.os_kind, other.arch)

    def text(self) -> str:
        base = size_text(self.cpu_units, self.memory_mib) if self.cpu_units and \
            self.memory_mib else "no task-level size"
        label = platform_label(self.os_family, self.cpu_architecture)
        return base if label == "Linux/X86_64" else f"{base}, {label}"


def platform_label(os_family: str, cpu_architecture: str) -> str:
    """"Linux/X86_64", "Linux/ARM64", "Windows/X86_64 (WINDOWS_SERVER_2022_CORE)"."""
    kind, arch = os_kind_of(os_family), architecture_of(cpu_architecture)
    os_text = {LINUX: "Linux", WINDOWS: "Windows"}.get(kind or "", os_family or "?")
    label = f"{os_text}/{arch or cpu_architecture or '?'}"
    return f"{label} ({os_family})" if kind == WINDOWS else label


@dataclass(frozen=True)
class DeploymentView:
    """A rolling-update deployment or a task set (CODE_DEPLOY / EXTERNAL controllers), as the
    collector records them (rightsizer.collect.collectors.ecs._deployments)."""

    kind: str  # "deployment" | "task_set"
    status: str  # PRIMARY | ACTIVE | DRAINING | INACTIVE
    task_definition: str
    running_count: int
    desired_count: int
    rollout_state: str  # IN_PROGRESS | COMPLETED | FAILED, or STEADY_STATE | STABILIZING
    created_at: datetime | None
    size: TaskSize | None  # None: its task definition could not be read
    launch_type: str = ""
    strategy: tuple[tuple[str, int, int], ...] = ()
    # the revision before it, for a PRIMARY deployment that started recently: (task
    # definition, its size or None when it could not be read); None when it was not looked up
    previous: tuple[str, TaskSize | None] | None = None

    def text(self) -> str:
        size = self.size.text() if self.size is not None else "size unknown"
        return (f"{self.status} {revision_name(self.task_definition)} ({size}, "
                f"{self.running_count} running)")


@dataclass(frozen=True)
class WindowRevision:
    """What ran the metric window: `deployment` (None: no deployment was recorded, so the
    service-level task definition) or, when no one revision ran it all, why (`skip`)."""

    deployment: DeploymentView | None = None
    skip: tuple[Literal["insufficient-data", "not-applicable"], str] | None = None

    def service_as_ran(self, service: ServiceView) -> ServiceView:
        """`service` at the task definition and size that ran the window."""
        if self.deployment is not None and self.deployment.size is not None:
            return service.with_task_definition(self.deployment.task_definition,
                                                self.deployment.size)
        return service


def fargate_sizing_problem(service: ServiceView) -> str | None:
    """Why no Fargate task size applies to the service at all (another launch type or
    capacity provider, or no task running); None when one does."""
    if service.not_fargate_reason is not None:
        return f"{service.not_fargate_reason}: Fargate task sizes do not apply"
    if service.task_count <= 0:
        return "scaled to zero tasks"
    return None


def size_that_ran(service: ServiceView, window_start: datetime) -> WindowRevision:
    """window_revision, with a `skip` as well when no Fargate size applies at all (another
    launch type, no task) or the size that ran is one rightsizer cannot size (its platform or
    size): what a sizing rule checks before it sizes `ran.service_as_ran(service)`."""
    problem = fargate_sizing_problem(service)
    if problem is not None:
        return WindowRevision(skip=("not-applicable", problem))
    ran = window_revision(service, window_start)
    if ran.skip is not None:
        return ran
    as_ran = ran.service_as_ran(service)
    problem = next((found for found in (as_ran.platform_problem, as_ran.size_problem)
                    if found is not None), None)
    return ran if problem is None else replace(ran, skip=("not-applicable", problem))


WAITS = "sizing waits until one revision ran the whole window"


def window_revision(service: ServiceView, window_start: datetime) -> WindowRevision:
    """The one revision whose task size the window's AWS/ECS utilization is relative to.

    CPU/MemoryUtilization of a service is the share of the task definition's CPU/memory its
    tasks use (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html)
    so it is only comparable across the window when one size ran all of it. DescribeServices
    lists the PRIMARY deployment and any ACTIVE one still running tasks, each with its own task
    definition and rolloutState; blue/green and external services list task sets instead
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html,
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html)."""
    deployments = service.deployments
    if not deployments:
        return WindowRevision()
    primary = next((d for d in deployments if d.status == "PRIMARY"), None)
    running = sorted((d for d in deployments if d.running_count > 0),
                     key=lambda d: (d.status != "PRIMARY", d.status, d.task_definition))
    if len(running) > 1:
        return WindowRevision(skip=("insufficient-data", "rollout in progress: " + " and ".join(
            d.text() for d in running) + f"; {WAITS}"))
    if primary is not None and primary.rollout_state in ("IN_PROGRESS", "STABILIZING"):
        others = [d.text() for d in deployments if d is not primary]
        return WindowRevision(skip=("insufficient-data", (
            f"rollout in progress: {primary.text()} is {primary.rollout_state}"
            + (f", beside {' and '.join(others)}" if others else "") + f"; {WAITS}")))
    if primary is not None and primary.rollout_state == "FAILED":
        return WindowRevision(skip=("insufficient-data", (
            f"the last rollout FAILED: {primary.text()}; the service is between revisions; "
            f"{WAITS}")))
    ran = running[0] if running else primary
    if ran is None:
        return WindowRevision()
    if primary is not None and ran is not primary:
        return WindowRevision(skip=("insufficient-data", (
            f"{ran.text()} runs while {primary.text()} has no running task; {WAITS}")))
    if ran.size is None:
        return WindowRevision(skip=("insufficient-data", (
            f"the task definition {revision_name(ran.task_definition)} could not be read")))
    started = ran.created_at
    if started is None or started <= window_start:
        return WindowRevision(deployment=ran)
    when = started.strftime("%Y-%m-%d %H:%M UTC")
    # the deployment it replaced: one still listed (no task left), else the revision before
    before = next((d for d in deployments if d is not ran and d.size is not None), None)
    if before is not None:
        previous: tuple[str, TaskSize | None] | None = (before.task_definition, before.size)
    else:
        previous = ran.previous
    if previous is None:
        if revision_number(ran.task_definition) <= 1:
            return WindowRevision(deployment=ran)  # the family's first revision: nothing before
        return WindowRevision(skip=("insufficient-data", (
            f"PRIMARY {revision_name(ran.task_definition)} ({ran.size.text()}) started {when}, "
            f"inside the window, and the revision it replaced was not read; {WAITS}")))
    previous_arn, previous_size = previous
    if previous_size is None:
        return WindowRevision(skip=("insufficient-data", (
            f"PRIMARY {revision_name(ran.task_definition)} ({ran.size.text()}) started {when}, "
            f"inside the window, and the revision before it "
            f"({revision_name(previous_arn)}) could not be read; {WAITS}")))
    if not previous_size.same_as(ran.size):
        return WindowRevision(skip=("insufficient-data", (
            f"rolled out inside the window: {revision_name(previous_arn)} "
            f"({previous_size.text()}) until {when}, then {revision_name(ran.task_definition)} "
            f"({ran.size.text()}); the window's metrics mix two task sizes; {WAITS}")))
    return WindowRevision(deployment=ran)


def revision_number(task_definition: str) -> int:
    """api:7 (or its ARN) -> 7; 0 when it has no revision number."""
    revision = task_definition.rpartition(":")[2]
    return int(revision) if revision.isdigit() else 0


def placement(strategy: tuple[tuple[str, int, int], ...], tasks: int) -> dict[str, float]:
    """Tasks per capacity provider for `tasks` tasks under a strategy: each provider's base is
    placed first, the rest split by weight (fractions: the expected split).
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
    ("Base requirements are satisfied first before weight distribution"; "if capacityProviderA
    has weight 1 and capacityProviderB has weight 4, then for every 1 task on A, 4 tasks will
    run on B")."""
    placed = dict.fromkeys((provider for provider, _, _ in strategy), 0.0)
    remaining = float(max(tasks, 0))
    for provider, _, base in strategy:
        if base > 0 and remaining > 0:
            take = min(float(base), remaining)
            placed[provider] += take
            remaining -= take
    total = sum(weight for _, weight, _ in strategy)
    if remaining > 0 and total > 0:
        for provider, weight, _ in strategy:
            placed[provider] += remaining * weight / total
    return placed


def no_price_detail(service: ServiceView, *, spot: bool = False) -> str:
    """The skipped row's detail when the service's own platform has no price in its region."""
    if service.os_kind == WINDOWS:
        if spot or service.uses_spot:
            return "Fargate Spot does not run Windows tasks: no Windows Fargate Spot price"
        return f"no Windows Fargate price for {service.region}"
    if service.arch == ARM64:
        return f"no Fargate Linux/ARM64 price for {service.region}"
    return f"no Fargate price for region {service.region}"


@lru_cache(maxsize=4096)
def spot_share_of(strategy: tuple[tuple[str, int, int], ...], tasks: int) -> float:
    """Share of `tasks` tasks the strategy places on FARGATE_SPOT, base counted."""
    count = max(tasks, 1)  # a service scaled to zero: the share its first task would get
    return placement(strategy, count).get("FARGATE_SPOT", 0.0) / count


@lru_cache(maxsize=1024)
def _providers(strategy: tuple[tuple[str, int, int], ...]) -> frozenset[str]:
    return frozenset(provider for provider, _, _ in strategy)


@lru_cache(maxsize=1024)
def _not_fargate_reason(scheduling_strategy: str, launch_type: str,
                        strategy: tuple[tuple[str, int, int], ...]) -> str | None:
    """Why Fargate task sizes and prices do not apply; a few shapes across thousands of
    services, each worked out once."""
    if scheduling_strategy == "DAEMON":
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html
        # ("Fargate tasks don't support the DAEMON scheduling strategy")
        return ("DAEMON scheduling strategy: one task on each container instance (Fargate "
                "does not run DAEMON services), billed by the instances, not by Fargate "
                "task size")
    if strategy:
        others = sorted({provider for provider, _, _ in strategy} - FARGATE_PROVIDERS)
        if others:
            return (f"capacity provider {', '.join(others)} is not FARGATE or FARGATE_SPOT: "
                    "its tasks run on EC2 capacity billed by the instances, not by Fargate "
                    "task size")
        return None
    return {
        "FARGATE": None,
        "EC2": "EC2 launch type: billed by the container instances, not by Fargate task size",
        "EXTERNAL": "EXTERNAL launch type (ECS Anywhere): runs on your own servers, billed "
                    "per registered instance, not by Fargate task size",
        "MANAGED_INSTANCES": "MANAGED_INSTANCES launch type: billed by the managed EC2 "
                             "instances, not by Fargate task size",
        "": "no launch type, capacity provider strategy or cluster default strategy was "
            "recorded: where its tasks run is unknown",
    }.get(launch_type, f"launch type {launch_type}: not Fargate")


@dataclass(frozen=True)
class _Platform:
    os_kind: str | None
    arch: str | None
    label: str
    problem: str | None


@lru_cache(maxsize=256)
def _platform(os_family: str, cpu_architecture: str) -> _Platform:
    kind, arch = os_kind_of(os_family), architecture_of(cpu_architecture)
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
    problem = None
    if kind is None:
        problem = (f"unexpected runtimePlatform.operatingSystemFamily {os_family!r}: no "
                   "Fargate size table or price is known for it")
    elif arch is None:
        problem = (f"unexpected runtimePlatform.cpuArchitecture {cpu_architecture!r}: no "
                   "Fargate price is known for it")
    elif kind == WINDOWS and arch == ARM64:
        problem = "Windows on ARM64 is not a Fargate platform (Windows tasks are X86_64)"
    return _Platform(kind, arch, platform_label(os_family, cpu_architecture), problem)


@lru_cache(maxsize=1024)
def _size_problem(cpu_units: int, memory_mib: int, os_kind: str | None) -> str | None:
    if not cpu_units or not memory_mib:
        return "task definition has no task-level CPU/memory"
    if os_kind is not None and not is_valid_size(cpu_units, memory_mib, os_kind):
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
        os_text = "Windows" if os_kind == WINDOWS else "Linux"
        return (f"task size {cpu_units} CPU units / {memory_mib} MiB is not a valid Fargate "
                f"size for {os_text}: the size that ran cannot be priced")
    return None


@dataclass(frozen=True)
class ServiceView:
    """One service as the ECS rules read it; the derived figures are computed once, as three
    rules ask each of 10,000s of services for them (the fields never change)."""

    account: str
    region: str
    cluster: str
    name: str
    arn: str
    cpu_units: int
    memory_mib: int
    launch_type: str
    strategy: tuple[tuple[str, int, int], ...]  # (provider, weight, base)
    load_balancer_count: int
    desired_count: int
    running_count: int
    tags: dict[str, str]
    task_definition: str = ""
    os_family: str = ""  # runtimePlatform.operatingSystemFamily ("" = LINUX)
    cpu_architecture: str = ""  # runtimePlatform.cpuArchitecture ("" = X86_64)
    deployment_controller: str = ""  # ECS | CODE_DEPLOY | EXTERNAL ("" = ECS)
    scheduling_strategy: str = ""  # REPLICA | DAEMON ("" = REPLICA)
    platform_version: str = ""
    deployments: tuple[DeploymentView, ...] = ()

    # computed from the fields above by __post_init__ (again by dataclasses.replace)
    resource: Resource = field(init=False, repr=False, compare=False)
    metric_key: str = field(init=False, repr=False, compare=False)
    providers: frozenset[str] = field(init=False, repr=False, compare=False)
    not_fargate_reason: str | None = field(init=False, repr=False, compare=False)
    spot_share: float = field(init=False, repr=False, compare=False)
    platform: _Platform = field(init=False, repr=False, compare=False)
    size_problem: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        platform = _platform(self.os_family, self.cpu_architecture)
        for name, value in (
            ("resource", Resource("ecs-service", self.arn, self.name, self.account, self.region,
                                  self.tags)),
            ("metric_key", f"{self.cluster}/{self.name}"),
            ("providers", _providers(self.strategy)),
            # why Fargate task sizes and prices do not apply (None when they do)
            ("not_fargate_reason", _not_fargate_reason(self.scheduling_strategy,
                                                       self.launch_type, self.strategy)),
            # share of the desired tasks the strategy places on FARGATE_SPOT (see placement)
            ("spot_share", spot_share_of(self.strategy, self.desired_count)),
            ("platform", platform),
            # why the current task size is not one Fargate runs (None when it is)
            ("size_problem", _size_problem(self.cpu_units, self.memory_mib, platform.os_kind)),
        ):
            object.__setattr__(self, name, value)  # how a frozen dataclass sets its own field

    @property
    def on_fargate(self) -> bool:
        return self.not_fargate_reason is None

    @property
    def uses_spot(self) -> bool:
        return "FARGATE_SPOT" in self.providers

    @property
    def task_count(self) -> int:
        # desired, not running: tasks still draining after a scale-to-zero are going away
        return self.desired_count

    @property
    def os_kind(self) -> str | None:
        return self.platform.os_kind

    @property
    def arch(self) -> str | None:
        return self.platform.arch

    @property
    def platform_label(self) -> str:
        return self.platform.label

    @property
    def platform_problem(self) -> str | None:
        """Why the runtime platform cannot be sized or priced (None when it can)."""
        return self.platform.problem

    @property
    def controller(self) -> str:
        return self.deployment_controller or "ECS"

    def with_task_definition(self, task_definition: str, size: TaskSize) -> ServiceView:
        """This service as if `task_definition` (of `size`) were its own: what ran the window."""
        return replace(self, task_definition=task_definition, cpu_units=size.cpu_units,
                       memory_mib=size.memory_mib, os_family=size.os_family,
                       cpu_architecture=size.cpu_architecture)

    def prices(self) -> tuple[pricing.Price, ...]:
        """The rates hourly_usd bills this service's tasks at (for the finding's `pricing`)."""
        if self.os_kind is None or self.arch is None:
            return ()
        share = self.spot_share
        found: tuple[pricing.Price, ...] = () if share >= 1 else pricing.fargate_prices(
            self.region, os_kind=self.os_kind, arch=self.arch)
        if share:
            found += pricing.fargate_prices(self.region, os_kind=self.os_kind, arch=self.arch,
                                            spot=True)
        return found

    def hourly_usd(self, cpu_units: int, memory_mib: int) -> float | None:
        """What one task of this size costs an hour under the service's own strategy, on its
        own platform (None when that platform has no price in the region: never another's)."""
        if self.os_kind is None or self.arch is None:
            return None
        on_demand = pricing.fargate_hourly_usd(self.region, cpu_units, memory_mib,
                                               os_kind=self.os_kind, arch=self.arch)
        share = self.spot_share
        if on_demand is None or not share:
            return on_demand
        spot = pricing.fargate_hourly_usd(self.region, cpu_units, memory_mib, spot=True,
                                          os_kind=self.os_kind, arch=self.arch)
        return None if spot is None else share * spot + (1 - share) * on_demand


def _strategy(raw: object) -> tuple[tuple[str, int, int], ...]:
    if isinstance(raw, str):
        return _strategy_text(raw)
    return _strategy_items(decode_json_cell(raw, []))


@lru_cache(maxsize=4096)
def _strategy_text(raw: str) -> tuple[tuple[str, int, int], ...]:
    # a few distinct strategies across thousands of services: each text is parsed once
    return _strategy_items(decode_json_cell(raw, []))


def _strategy_items(items: list[dict[str, object]]) -> tuple[tuple[str, int, int], ...]:
    return tuple(
        (str(item.get("capacityProvider", "")), as_int(item.get("weight")),
         as_int(item.get("base")))
        for item in items
    )


def _text(value: object) -> str:
    if type(value) is str:
        return value
    if value is None or (isinstance(value, float) and value != value):  # None / NaN: absent
        return ""
    return str(value)


def _datetime(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _size(item: dict[str, Any]) -> TaskSize | None:
    if item.get("unavailable"):
        return None
    return TaskSize(as_int(item.get("cpu")), as_int(item.get("memory")),
                    _text(item.get("os_family")), _text(item.get("cpu_architecture")))


def _deployments(raw: object) -> tuple[DeploymentView, ...]:
    if raw is None or raw == "[]":  # no deployments recorded (or a snapshot from before)
        return ()
    items = decode_json_cell(raw, [])
    if not isinstance(items, list):
        return ()
    views = []
    for item in items:
        if not isinstance(item, dict):
            continue
        previous = item.get("previous")
        views.append(DeploymentView(
            kind=_text(item.get("kind")), status=_text(item.get("status")),
            task_definition=_text(item.get("task_definition")),
            running_count=as_int(item.get("running_count")),
            desired_count=as_int(item.get("desired_count")),
            rollout_state=_text(item.get("rollout_state")),
            created_at=_datetime(item.get("created_at")),
            size=_size(item),
            launch_type=_text(item.get("launch_type")),
            strategy=_strategy_items([entry for entry in item.get("capacity_provider_strategy")
                                      or [] if isinstance(entry, dict)]),
            previous=(_text(previous.get("task_definition")), _size(previous))
            if isinstance(previous, dict) else None,
        ))
    return tuple(views)


def ecs_services(snapshot: Snapshot) -> Iterator[ServiceView]:
    # three rules walk the services: the rows are decoded once
    yield from snapshot.derived("ecs-services", _service_views)


def _service_views(snapshot: Snapshot) -> list[ServiceView]:
    return list(_decode_services(snapshot))


def _decode_services(snapshot: Snapshot) -> Iterator[ServiceView]:
    tags: dict[str, dict[str, str]] = {}  # most services share a handful of tag sets (read only)
    for row in records(snapshot.table("ecs_services")):
        raw_tags = row.get("tags")
        if isinstance(raw_tags, str):
            if raw_tags not in tags:
                tags[raw_tags] = decode_json_cell(raw_tags, {})
            decoded = tags[raw_tags]
        else:
            decoded = decode_json_cell(raw_tags, {})
        strategy = _strategy(row.get("capacity_provider_strategy"))
        launch_type = _text(row.get("launch_type"))
        deployments = _deployments(row.get("deployments"))
        primary_set = next((d for d in deployments
                            if d.kind == "task_set" and d.status == "PRIMARY"),
                           None) if deployments else None
        if primary_set is not None and (primary_set.launch_type or primary_set.strategy):
            # blue/green and external services run their tasks in task sets, each with its own
            # launch type or capacity provider strategy (CreateTaskSet): the primary one's is
            # what the tasks run on
            launch_type, strategy = primary_set.launch_type, primary_set.strategy
        if not strategy and not launch_type:
            # A service with neither uses its cluster's default strategy.
            strategy = _strategy(row.get("cluster_default_strategy"))
        yield ServiceView(
            account=str(row["account"]),
            region=str(row["region"]),
            cluster=str(row["cluster"]),
            name=str(row["service"]),
            arn=str(row["service_arn"]),
            cpu_units=as_int(row.get("cpu_units")),
            memory_mib=as_int(row.get("memory_mib")),
            launch_type=launch_type,
            strategy=strategy,
            load_balancer_count=as_int(row.get("load_balancer_count")),
            desired_count=as_int(row.get("desired_count")),
            running_count=as_int(row.get("running_count")),
            tags=decoded,
            task_definition=_text(row.get("task_definition")),
            os_family=_text(row.get("os_family")),
            cpu_architecture=_text(row.get("cpu_architecture")),
            deployment_controller=_text(row.get("deployment_controller")),
            scheduling_strategy=_text(row.get("scheduling_strategy")),
            platform_version=_text(row.get("platform_version")),
            deployments=deployments,
        )


# Application Auto Scaling predefined metrics (PredefinedMetricType) for ECS services.
CPU_TARGET_METRIC = "ECSServiceAverageCPUUtilization"
MEMORY_TARGET_METRIC = "ECSServiceAverageMemoryUtilization"
TARGET_TRACKING = "TargetTrackingScaling"


@dataclass(frozen=True)
class ScalingView:
    """A service's Application Auto Scaling target (one autoscaling_targets row)."""

    min_capacity: int
    max_capacity: int
    policies: tuple[dict[str, object], ...]

    def target_value(self, metric: str) -> float | None:
        """The target of a target-tracking policy on `metric`, in percent (lowest if several:
        the policy that scales out first is the one that binds)."""
        values = [
            float(policy["target_value"]) for policy in self.policies
            if policy.get("type") == TARGET_TRACKING and policy.get("metric") == metric
            and isinstance(policy.get("target_value"), int | float)
        ]
        return min(values) if values else None

    @property
    def cpu_target_percent(self) -> float | None:
        return self.target_value(CPU_TARGET_METRIC)

    @property
    def memory_target_percent(self) -> float | None:
        return self.target_value(MEMORY_TARGET_METRIC)

    def describe_policies(self) -> list[str]:
        """"TargetTrackingScaling ECSServiceAverageCPUUtilization 70" etc., for evidence."""
        return [
            " ".join(str(part) for part in (policy.get("type"), policy.get("metric"),
                                            policy.get("target_value")) if part not in (None, ""))
            for policy in self.policies
        ]


def _scalable_targets(snapshot: Snapshot) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The first scalable target of each (account, region, resource id): one pass, not a
    filter of the whole table per service."""
    index: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in records(snapshot.table("autoscaling_targets")):
        index.setdefault((str(row["account"]), str(row["region"]), str(row["resource_id"])),
                         row)
    return index


def _scalable_target(snapshot: Snapshot, service: ServiceView) -> dict[str, Any] | None:
    index = snapshot.derived("scalable-targets", _scalable_targets)
    return index.get((service.account, service.region, f"service/{service.metric_key}"))


def has_scalable_target(snapshot: Snapshot, service: ServiceView) -> bool:
    """Whether any scalable target (target tracking, step or scheduled) covers the service."""
    return _scalable_target(snapshot, service) is not None


def scaling_for(snapshot: Snapshot, service: ServiceView) -> ScalingView | None:
    """The scalable target registered for service/<cluster>/<service>, if any."""
    row = _scalable_target(snapshot, service)
    if row is None:
        return None
    policies = decode_json_cell(row.get("policies"), [])
    return ScalingView(min_capacity=as_int(row.get("min_capacity")),
                       max_capacity=as_int(row.get("max_capacity")),
                       policies=tuple(p for p in policies if isinstance(p, dict)))
