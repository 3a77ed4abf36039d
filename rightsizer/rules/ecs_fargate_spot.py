"""ecs-fargate-spot: interruptible background services moved to Fargate Spot."""

from __future__ import annotations

import shlex
from fnmatch import fnmatchcase

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, finding_for, skipped_for
from rightsizer.rules.support.ecs_common import (
    ServiceView,
    ecs_services,
    no_price_detail,
    spot_share_of,
)
from rightsizer.rules.support.fargate_sizes import ARM64, WINDOWS
from rightsizer.snapshot.store import Snapshot

RULE_ID = "ecs-fargate-spot"


class Settings(RuleSettings):
    include_name_patterns: list[str] = Field(
        default_factory=list,
        description="Services without a load balancer are candidates; services whose name "
        "matches one of these glob patterns are considered even behind a load balancer.",
        json_schema_extra={"example": ["*-worker", "*-export*"]},
    )
    include_tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags (key = value) marking services as interruptible: a service "
        "carrying any of them is considered even behind a load balancer.",
        json_schema_extra={"example": {"workload": "batch"}},
    )
    spot_weight: int = Field(4, ge=1, le=1000, description="FARGATE_SPOT weight to recommend.")
    on_demand_weight: int = Field(
        1, ge=0, le=1000, description="FARGATE weight kept as on-demand fallback."
    )
    on_demand_base: int = Field(
        0, ge=0, le=100_000,
        description="FARGATE base to recommend: this many tasks always run on-demand (placed "
        "first), the rest are split by weight.",
    )


def _explicitly_included(service: ServiceView, settings: Settings) -> bool:
    if any(fnmatchcase(service.name, pattern) for pattern in settings.include_name_patterns):
        return True
    return any(service.tags.get(key) == value for key, value in settings.include_tags.items())


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    return tuple(int(part) for part in parts) if all(p.isdigit() for p in parts) else None


def _spot_problem(service: ServiceView) -> str | None:
    """Why Fargate Spot cannot run this service's tasks (None when it can)."""
    if service.platform_problem is not None:
        return service.platform_problem
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
    # ("Windows containers on Fargate don't support the Fargate Spot capacity provider")
    if service.os_kind == WINDOWS:
        return (f"Windows task ({service.os_family}): Fargate Spot does not run Windows "
                "containers")
    # FARGATE_SPOT "supports Linux tasks with the X86_64 architecture on platform version 1.3.0
    # or later" and "Linux tasks with the ARM64 architecture on platform version 1.4.0 or later"
    # (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html)
    needed = (1, 4, 0) if service.arch == ARM64 else (1, 3, 0)
    pinned = _version(service.platform_version)
    if pinned is not None and pinned < needed:
        return (f"platform version {service.platform_version}: Fargate Spot runs "
                f"{service.platform_label} tasks on {'.'.join(map(str, needed))} or later")
    return None


def _controller_problem(service: ServiceView) -> str | None:
    # "Cannot force a new deployment on services with a CODE_DEPLOY deployment controller";
    # UpdateService changes only desired count and a few settings for blue/green and external
    # services (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html)
    if service.controller == "CODE_DEPLOY":
        return ("CODE_DEPLOY (blue/green) deployment controller: the capacity provider strategy "
                "changes through a CodeDeploy deployment's AppSpec, which this rule does not "
                "write")
    if service.controller == "EXTERNAL":
        return ("EXTERNAL deployment controller: the capacity provider strategy belongs to its "
                "task sets, which the external deployment tool creates")
    return None


def recommended_strategy(settings: Settings) -> tuple[tuple[str, int, int], ...]:
    """(provider, weight, base): FARGATE holds the base (only one provider may have one)."""
    return (("FARGATE", settings.on_demand_weight, settings.on_demand_base),
            ("FARGATE_SPOT", settings.spot_weight, 0))


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    strategy = recommended_strategy(settings)
    for service in ecs_services(snapshot):
        resource = service.resource
        if service.uses_spot:
            continue  # already on Spot: nothing to recommend
        problem = (service.not_fargate_reason or service.platform_problem
                   or _controller_problem(service))
        if problem is None and service.load_balancer_count and \
                not _explicitly_included(service, settings):
            problem = ("behind a load balancer: a Spot interruption (2-minute notice) drops "
                       "in-flight requests; list it in include_name_patterns to consider it "
                       "anyway")
        if problem is None and service.task_count <= 0:
            problem = "scaled to zero tasks"
        problem = problem or _spot_problem(service) or service.size_problem
        if problem is not None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable", problem))
            continue
        platform = {"os_kind": service.os_kind or "LINUX", "arch": service.arch or "X86_64"}
        on_demand = pricing.fargate_hourly_usd(service.region, service.cpu_units,
                                               service.memory_mib, **platform)
        spot = pricing.fargate_hourly_usd(service.region, service.cpu_units, service.memory_mib,
                                          spot=True, **platform)
        if on_demand is None or spot is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              no_price_detail(service, spot=True)))
            continue
        tasks = service.task_count
        spot_tasks = spot_share_of(strategy, tasks) * tasks  # base first, then by weight
        if spot_tasks <= 0:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"with FARGATE base {settings.on_demand_base}, all {tasks} of its tasks stay "
                "on-demand: nothing would run on Spot"))
            continue
        spot_share = spot_tasks / tasks
        hours = pricing.HOURS_PER_MONTH
        why_eligible = (
            "matches the configured include patterns/tags"
            if _explicitly_included(service, settings)
            else "has no load balancer (a background worker)"
        )
        base_text = (f"FARGATE base {settings.on_demand_base} (placed first), "
                     if settings.on_demand_base else "")
        result.findings.append(finding_for(
            resource, RULE_ID,
            current={"capacity_provider": "FARGATE"},
            recommended={
                "capacity_provider": "FARGATE_SPOT",
                "strategy": [
                    {"capacityProvider": provider, "weight": weight, "base": base}
                    if provider == "FARGATE" else
                    {"capacityProvider": provider, "weight": weight}
                    for provider, weight, base in strategy
                ],
            },
            monthly_cost_usd=on_demand * hours * tasks,
            monthly_savings_usd=(on_demand - spot) * hours * spot_tasks,
            # the saving is the Spot tasks' hours at on-demand less the same hours at Spot
            pricing=pricing.basis(*pricing.fargate_prices(service.region, **platform),
                                  recommended=pricing.fargate_prices(service.region, spot=True,
                                                                     **platform),
                                  per_unit_change=True),
            evidence={
                "cluster": service.cluster,
                "task_count": tasks,
                "cpu_units": service.cpu_units,
                "memory_mib": service.memory_mib,
                "platform": service.platform_label,
                "platform_version": service.platform_version or "LATEST",
                "load_balancers": service.load_balancer_count,
                "on_demand_base": settings.on_demand_base,
                "spot_tasks": round(spot_tasks, 3),
                "spot_share": round(spot_share, 3),
                "hourly_on_demand_usd": round(on_demand, 5),
                "hourly_spot_usd": round(spot, 5),
            },
            reason=(
                f"runs on on-demand FARGATE and {why_eligible}; with {base_text}FARGATE_SPOT "
                f"weight {settings.spot_weight} / FARGATE weight {settings.on_demand_weight}, "
                f"{spot_share:.0%} of its {tasks} tasks run at the Spot price"
            ),
        ))
    return result


def how_to_apply(finding: Finding) -> dict[str, str]:
    """This service's own strategy via UpdateService, never PutClusterCapacityProviders (that
    replaces the cluster's whole provider list and default strategy). A service on the FARGATE
    launch type moves to a capacity provider strategy with a forced new deployment: the
    strategy parameter "doesn't trigger a new service deployment" by itself
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html)."""
    strategy = finding.recommended.get("strategy", [])
    q = shlex.quote
    region = finding.region
    cluster = str(finding.evidence.get("cluster") or "")
    if not cluster:  # findings from before the cluster was recorded: the ARN's, if it has one
        parts = finding.resource_id.split(":", 5)[-1].split("/")
        cluster = parts[1] if len(parts) == 3 else "default"
    service = finding.name

    def item(entry: dict[str, object]) -> str:
        text = f"capacityProvider={entry['capacityProvider']},weight={entry['weight']}"
        return text + (f",base={entry['base']}" if "base" in entry else "")

    cli_strategy = " ".join(item(entry) for entry in strategy)
    check = (f"aws ecs describe-clusters --region {q(region)} --clusters {q(cluster)} "
             "--query 'clusters[0].capacityProviders' --output text")
    missing = (f"cluster {cluster} has no FARGATE_SPOT capacity provider: associate it first "
               "(PutClusterCapacityProviders replaces the cluster's whole provider list and "
               "default strategy, so list the ones it has)")
    cli = (
        f"# ecs-fargate-spot: {service} (cluster {cluster}, {region}): its own capacity "
        "provider strategy\n"
        "# Precondition: the cluster has FARGATE_SPOT associated; checked first (read-only):\n"
        f"#   {check}\n"
        "# --force-new-deployment replaces the running tasks under the new strategy. Without\n"
        "# FARGATE_SPOT on the cluster it changes nothing and exits 1 (in a subshell, so a\n"
        "# pasted block does not close your terminal).\n"
        "(\n"
        f"if {check} | grep -qw FARGATE_SPOT; then\n"
        f"  aws ecs update-service --region {q(region)} --cluster {q(cluster)} --service "
        f"{q(service)} --capacity-provider-strategy {cli_strategy} --force-new-deployment "
        "--query 'service.capacityProviderStrategy' --output text\n"
        "else\n"
        f"  echo {q(missing)} >&2\n"
        "  exit 1\n"
        "fi\n"
        ")"
    )
    tf = "\n".join(
        "capacity_provider_strategy {\n"
        f"  capacity_provider = \"{entry['capacityProvider']}\"\n"
        f"  weight            = {entry['weight']}\n"
        + (f"  base              = {entry['base']}\n" if "base" in entry else "")
        + "}"
        for entry in strategy
    )
    cdk_items = ",\n".join(
        f"  {{ capacityProvider: '{entry['capacityProvider']}', weight: {entry['weight']}"
        + (f", base: {entry['base']}" if "base" in entry else "") + " }"
        for entry in strategy
    )
    return {
        "cli": cli,
        "terraform": (
            f"# aws_ecs_service \"{service}\": remove launch_type, add\n{tf}\n"
            "force_new_deployment = true\n"
            "# check `terraform plan`: provider versions that cannot update the strategy in "
            "place replace the service\n"
            "# the aws_ecs_cluster_capacity_providers of the cluster must list FARGATE_SPOT"
        ),
        "cdk": (
            "// ecs.FargateService props: remove launchType, add\n"
            f"capacityProviderStrategies: [\n{cdk_items},\n],\n"
            "// and the ecs.Cluster needs enableFargateCapacityProviders: true"
        ),
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
    bill_services=('Amazon Elastic Container Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
