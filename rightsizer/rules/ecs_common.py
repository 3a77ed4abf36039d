"""A typed view of one row of the ecs_services table, shared by the ECS rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload

from rightsizer import pricing
from rightsizer.findings import Resource
from rightsizer.snapshot import Snapshot, as_int, decode_json_cell, records

FARGATE_PROVIDERS = {"FARGATE", "FARGATE_SPOT"}


T = TypeVar("T")


class _ComputedOnce(Generic[T]):
    """functools.cached_property without its lock: Python 3.11 takes a lock on every first
    read, ~3 us, which was most of what computing these figures for 20,000 services cost.
    The value lands in the instance's __dict__, which later reads find first."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _ComputedOnce[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._compute(instance)
        return value


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

    @_ComputedOnce
    def resource(self) -> Resource:
        return Resource("ecs-service", self.arn, self.name, self.account, self.region, self.tags)

    @_ComputedOnce
    def metric_key(self) -> str:
        return f"{self.cluster}/{self.name}"

    @_ComputedOnce
    def providers(self) -> frozenset[str]:
        return frozenset(provider for provider, _, _ in self.strategy)

    @_ComputedOnce
    def on_fargate(self) -> bool:
        if self.strategy:
            return self.providers <= FARGATE_PROVIDERS
        return self.launch_type == "FARGATE"

    @_ComputedOnce
    def uses_spot(self) -> bool:
        return "FARGATE_SPOT" in self.providers

    @property
    def task_count(self) -> int:
        # desired, not running: tasks still draining after a scale-to-zero are going away
        return self.desired_count

    @_ComputedOnce
    def spot_share(self) -> float:
        """Share of tasks the strategy places on FARGATE_SPOT (by weight; base ignored)."""
        weights = {provider: weight for provider, weight, _ in self.strategy}
        total = sum(weights.values())
        return weights.get("FARGATE_SPOT", 0) / total if total else 0.0

    def hourly_usd(self, cpu_units: int, memory_mib: int) -> float | None:
        """What one task of this size costs an hour under the service's own strategy."""
        on_demand = pricing.fargate_hourly_usd(self.region, cpu_units, memory_mib)
        share = self.spot_share
        if on_demand is None or not share:
            return on_demand
        spot = pricing.fargate_hourly_usd(self.region, cpu_units, memory_mib, spot=True)
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
        launch_type = str(row.get("launch_type") or "")
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
