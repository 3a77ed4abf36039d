"""ecs-underprovisioned: Fargate tasks that run out of CPU or memory (a risk, not a saving)."""

from __future__ import annotations

from rightsizer import pricing
from rightsizer.rules import ecs_rightsize
from rightsizer.rules.base import MetricNeed, Rule, RuleResult
from rightsizer.rules.findings import Finding, Risk, Skipped, risk_for, skipped_for
from rightsizer.rules.support.ecs_common import (
    ServiceView,
    ecs_services,
    no_price_detail,
    scaling_for,
    size_text,
    size_that_ran,
)
from rightsizer.rules.support.fargate_sizes import (
    LINUX,
    WINDOWS,
    PricedSize,
    sizes_by_cost,
    valid_sizes,
)
from rightsizer.rules.support.pressure import PressureSettings, measure, not_enough_data
from rightsizer.rules.support.series import rounded
from rightsizer.snapshot.series import OneSeries
from rightsizer.snapshot.store import Snapshot

RULE_ID = "ecs-underprovisioned"
ECS = ecs_rightsize.ECS


# "If your container attempts to exceed the memory specified here, the container is killed"
# (ContainerDefinition.memory,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html)
class Settings(PressureSettings):
    """The shared thresholds (rules/support/pressure.py), against the task's CPU and memory."""


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    cpu = snapshot.series_stats(ECS, "CPUUtilization", "Maximum")
    memory = snapshot.series_stats(ECS, "MemoryUtilization", "Maximum")
    for service in ecs_services(snapshot):
        key = (service.account, service.region, service.metric_key)
        outcome = _judge(snapshot, settings, service, cpu.of(*key), memory.of(*key))
        result.add(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, service: ServiceView, cpu: OneSeries,
           mem: OneSeries) -> Risk | Skipped | None:
    resource = service.resource
    # AWS/ECS utilization is relative to the task size that produced it: judge one revision.
    ran = size_that_ran(service, snapshot.window_start)
    if ran.skip is not None:
        return skipped_for(resource, RULE_ID, *ran.skip)
    service = ran.service_as_ran(service)

    expected = snapshot.expected_datapoints
    pressure = measure(cpu, mem, expected, settings, mem.maximum)
    if pressure is None:
        return skipped_for(resource, RULE_ID, "insufficient-data",
                           not_enough_data(cpu, mem, expected, settings, "memory"))
    if not pressure.at_risk:
        return None
    cpu_risk, mem_risk, mem_peak = pressure.cpu_risk, pressure.memory_risk, mem.maximum

    os_kind = service.os_kind or LINUX
    current_hourly = service.hourly_usd(service.cpu_units, service.memory_mib)
    if current_hourly is None:
        return skipped_for(resource, RULE_ID, "not-applicable", no_price_detail(service))
    headroom = 1 + settings.headroom_percent / 100
    # CPU demand above the task size is never seen (the task is capped there), so a saturated
    # task gets more CPU than it has by the headroom; the dimension not at risk keeps its size.
    cpu_needed = service.cpu_units * headroom if cpu_risk else service.cpu_units
    mem_needed = mem_peak / 100 * service.memory_mib * headroom if mem_risk \
        else service.memory_mib
    # every valid size priced once per region, platform and Spot share, not per service
    by_cost = snapshot.derived(
        f"{RULE_ID}/sizes-by-cost/{service.region}/{os_kind}/{service.arch}/"
        f"{service.spot_share}",
        lambda _: sizes_by_cost(lambda c, m: service.hourly_usd(c, m) or float("inf"),
                                os_kind))
    fix = _smallest_fix(service, by_cost, cpu_needed, mem_needed, cpu_risk, mem_risk)

    tasks = service.task_count
    current_monthly = current_hourly * pricing.HOURS_PER_MONTH * tasks
    days = snapshot.manifest["window"]["days"]
    problems = []
    if cpu_risk:
        problems.append(f"CPU at or above {settings.cpu_saturated_percent:g}% of "
                        f"{service.cpu_units / 1024:g} vCPU in "
                        f"{pressure.saturated_share:.0%} of hours "
                        "(it used all it was given: the real demand may be higher)")
    if mem_risk:
        problems.append(f"memory peak {mem_peak:.0f}% of {service.memory_mib / 1024:g} GB "
                        "(a container over its memory limit is killed)")
    reason = f"{' and '.join(problems)} over {days} days" + pressure.not_judged()

    evidence: dict[str, object] = {
        **pressure.evidence(settings),
        "memory_max_percent": rounded(mem_peak) if pressure.memory_judged else None,
        "task_count": tasks,
        "cpu_needed_units": round(cpu_needed),
        "memory_needed_mib": round(mem_needed),
        "hourly_cost_current_usd": round(current_hourly, 5),
        "cpu_daily_max_percent": cpu.daily_peaks(),
        "memory_daily_max_percent": mem.daily_peaks(),
        # what how_to_apply needs, as ecs-rightsize records it
        "cluster": service.cluster,
        "task_definition": service.task_definition,
        "deployment_controller": service.controller,
        "platform": service.platform_label,
        "os_family": service.os_family or "LINUX",
        "cpu_architecture": service.cpu_architecture or "X86_64",
    }
    scaling = scaling_for(snapshot, service)
    if scaling is not None:
        evidence["autoscaling_min_max"] = [scaling.min_capacity, scaling.max_capacity]
        reason += (f"; autoscaling runs {scaling.min_capacity}-{scaling.max_capacity} tasks: "
                   "more tasks (a higher max capacity) also spread the load")
    current = {"cpu": service.cpu_units, "memory": service.memory_mib}
    if fix is None:
        largest = size_text(*valid_sizes(os_kind)[-1])
        os_text = "Windows" if os_kind == WINDOWS else "Linux"
        evidence["no_valid_fix"] = True
        reason += (f"; no valid Fargate size fixes it (the largest {os_text} task is "
                   f"{largest}): spread the load over more tasks or move it off Fargate")
        return risk_for(resource, RULE_ID, current=current, recommended={},
                        monthly_cost_usd=current_monthly, monthly_savings_usd=0.0,
                        evidence=evidence, reason=reason, severity=pressure.severity(settings))
    new_hourly, new_cpu, new_memory = fix
    increase = (new_hourly - current_hourly) * pricing.HOURS_PER_MONTH * tasks
    evidence["hourly_cost_recommended_usd"] = round(new_hourly, 5)
    evidence["no_valid_fix"] = False
    reason += (f"; {size_text(new_cpu, new_memory)} is the cheapest valid size with "
               f"{settings.headroom_percent:g}% headroom (+${increase:.2f}/month for {tasks} "
               f"task{'s' if tasks != 1 else ''})")
    return risk_for(resource, RULE_ID, current=current,
                    recommended={"cpu": new_cpu, "memory": new_memory},
                    monthly_cost_usd=current_monthly, monthly_savings_usd=-increase,
                    evidence=evidence, reason=reason, severity=pressure.severity(settings))


def _smallest_fix(service: ServiceView, by_cost: tuple[PricedSize, ...], cpu_needed: float,
                  mem_needed: float, more_cpu: bool, more_memory: bool
                  ) -> tuple[float, int, int] | None:
    """The cheapest valid (hourly, cpu, memory) with at least what is needed, strictly more of
    each dimension at risk; None when no Fargate size is that large (or none is priced)."""
    for hourly, cpu, memory in by_cost:
        if hourly == float("inf"):
            return None  # the rest are unpriced too (sorted by cost)
        if cpu < cpu_needed or memory < mem_needed:
            continue
        if (more_cpu and cpu <= service.cpu_units) or \
                (more_memory and memory <= service.memory_mib):
            continue
        return hourly, cpu, memory
    return None


def how_to_apply(finding: Finding) -> dict[str, str]:
    """The same commands as ecs-rightsize (register a revision with the new size, deploy it
    the way the service deploys); nothing when no larger size exists."""
    if not finding.recommended:
        return {"cli": "", "terraform": "", "cdk": ""}
    commands = ecs_rightsize.how_to_apply(finding)
    commands["cli"] = commands["cli"].replace("# ecs-rightsize:", f"# {RULE_ID}:", 1)
    return commands


RULE = Rule(
    id=RULE_ID,
    title="Fargate tasks that run out of CPU or memory",
    why=(
        "A task pinned at its CPU size is throttled (requests queue, latency climbs), and one "
        "whose memory peaks near the task's memory is one spike away from being stopped. "
        "Right-sizing goes both ways: the fix is the cheapest valid Fargate size with more of "
        "what runs out, priced as a monthly increase. It is a risk, never counted in savings."
    ),
    resource_type="ecs-service",
    bill_services=("Amazon Elastic Container Service",),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("ecs-service", ECS, "CPUUtilization", ("Maximum",)),
        MetricNeed("ecs-service", ECS, "MemoryUtilization", ("Maximum",)),
    ),
    supersedes=(ecs_rightsize.RULE_ID,),
)
