"""ecs-fargate-spot: interruptible background services moved to Fargate Spot."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import Field

from rightsizer import pricing
from rightsizer.findings import Finding, finding_for, skipped_for
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.ecs_common import ServiceView, ecs_services
from rightsizer.snapshot import Snapshot

RULE_ID = "ecs-fargate-spot"


class Settings(RuleSettings):
    include_name_patterns: list[str] = Field(
        default_factory=list,
        description="Glob patterns (e.g. '*-worker') of services to consider even behind a "
        "load balancer.",
    )
    include_tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags (key = value) marking services as interruptible, e.g. "
        "workload = 'batch'.",
    )
    spot_weight: int = Field(4, ge=1, le=1000, description="FARGATE_SPOT weight to recommend.")
    on_demand_weight: int = Field(
        1, ge=0, le=1000, description="FARGATE weight kept as on-demand fallback."
    )


def _explicitly_included(service: ServiceView, settings: Settings) -> bool:
    if any(fnmatchcase(service.name, pattern) for pattern in settings.include_name_patterns):
        return True
    return any(service.tags.get(key) == value for key, value in settings.include_tags.items())


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    spot_share = settings.spot_weight / (settings.spot_weight + settings.on_demand_weight)
    for service in ecs_services(snapshot):
        resource = service.resource
        if service.uses_spot:
            continue  # already on Spot: nothing to recommend
        if not service.on_fargate:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              "runs on EC2 capacity, not Fargate"))
            continue
        if service.load_balancer_count and not _explicitly_included(service, settings):
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                "behind a load balancer: a Spot interruption (2-minute notice) drops in-flight "
                "requests; list it in include_name_patterns to consider it anyway",
            ))
            continue
        if service.task_count <= 0:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              "scaled to zero tasks"))
            continue
        on_demand = pricing.fargate_hourly_usd(service.region, service.cpu_units,
                                               service.memory_mib)
        spot = pricing.fargate_hourly_usd(service.region, service.cpu_units, service.memory_mib,
                                          spot=True)
        if on_demand is None or spot is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              f"no Fargate price for region {service.region}"))
            continue
        hours = pricing.HOURS_PER_MONTH * service.task_count
        blended = spot_share * spot + (1 - spot_share) * on_demand
        why_eligible = (
            "matches the configured include patterns/tags"
            if _explicitly_included(service, settings)
            else "has no load balancer (a background worker)"
        )
        result.findings.append(finding_for(
            resource, RULE_ID,
            current={"capacity_provider": "FARGATE"},
            recommended={
                "capacity_provider": "FARGATE_SPOT",
                "strategy": [
                    {"capacityProvider": "FARGATE_SPOT", "weight": settings.spot_weight},
                    {"capacityProvider": "FARGATE", "weight": settings.on_demand_weight},
                ],
            },
            monthly_cost_usd=on_demand * hours,
            monthly_savings_usd=(on_demand - blended) * hours,
            evidence={
                "task_count": service.task_count,
                "cpu_units": service.cpu_units,
                "memory_mib": service.memory_mib,
                "load_balancers": service.load_balancer_count,
                "spot_share": round(spot_share, 3),
                "hourly_on_demand_usd": round(on_demand, 5),
                "hourly_spot_usd": round(spot, 5),
            },
            reason=(
                f"runs on on-demand FARGATE and {why_eligible}; with FARGATE_SPOT weight "
                f"{settings.spot_weight} / FARGATE weight {settings.on_demand_weight}, "
                f"{spot_share:.0%} of its tasks run at the Spot price"
            ),
        ))
    return result


def how_to_apply(finding: Finding) -> dict[str, str]:
    strategy = finding.recommended.get("strategy", [])
    cli_strategy = " ".join(
        f"capacityProvider={item['capacityProvider']},weight={item['weight']}"
        for item in strategy
    )
    cluster = finding.resource_id.rsplit("/", 2)[-2] if "/" in finding.resource_id else "CLUSTER"
    tf = "\n".join(
        "capacity_provider_strategy {\n"
        f"  capacity_provider = \"{item['capacityProvider']}\"\n  weight = {item['weight']}\n}}"
        for item in strategy
    )
    return {
        "cli": (
            "# the cluster needs the FARGATE and FARGATE_SPOT capacity providers:\n"
            f"aws ecs put-cluster-capacity-providers --cluster {cluster} "
            "--capacity-providers FARGATE FARGATE_SPOT --default-capacity-provider-strategy "
            "capacityProvider=FARGATE,weight=1\n"
            f"aws ecs update-service --cluster {cluster} --service {finding.name} "
            f"--capacity-provider-strategy {cli_strategy} --force-new-deployment "
            f"--region {finding.region}"
        ),
        "iac": "# Terraform aws_ecs_service (remove launch_type)\n" + tf,
    }


RULE = Rule(
    id=RULE_ID,
    title="Run interruptible background services on Fargate Spot",
    why=(
        "Fargate Spot runs the same tasks on spare capacity for up to 70% less, with a "
        "2-minute interruption notice. Background workers (reports, exports, training jobs) "
        "retry naturally; keeping one on-demand weight means the service still runs when Spot "
        "capacity is short."
    ),
    resource_type="ecs-service",
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
