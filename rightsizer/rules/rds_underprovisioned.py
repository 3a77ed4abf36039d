"""rds-underprovisioned: databases pinned at their CPU or short of memory (a risk, not a saving)."""

from __future__ import annotations

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules import rds_rightsize
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Risk, Severity, Skipped, risk_for, skipped_for
from rightsizer.rules.rds_rightsize import CLASS_SPECS, GIB, RDS
from rightsizer.rules.support.rds_common import (
    CLASS_SUPPORT_SOURCE,
    RdsInstance,
    classes_for_engine,
    no_price,
    rds_instances,
)
from rightsizer.rules.support.series import rounded, share_at_or_above
from rightsizer.snapshot.store import Snapshot

RULE_ID = "rds-underprovisioned"


class Settings(RuleSettings):
    cpu_saturated_percent: float = Field(
        95, gt=0, le=100,
        description="An hour whose CPU Maximum is at or above this counts as saturated.",
    )
    min_saturated_share: float = Field(
        0.1, gt=0, le=1,
        description="Flag an instance when at least this share of its hours with a CPU "
        "datapoint are saturated.",
    )
    memory_peak_percent: float = Field(
        90, gt=0, lt=100,
        description="Flag an instance whose memory in use (class memory minus the lowest "
        "FreeableMemory) rises above this share of the class's memory.",
    )
    headroom_percent: float = Field(
        20, ge=0, le=200,
        description="The fix holds the memory in use (or, for saturated CPU, today's vCPUs) "
        "plus this margin.",
    )
    high_severity_saturated_share: float = Field(
        0.25, gt=0, le=1,
        description="Severity high (else medium) from this share of saturated hours.",
    )
    high_severity_memory_percent: float = Field(
        97, gt=0, le=100,
        description="Severity high (else medium) from memory in use at or above this.",
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window that must have datapoints to judge a metric.",
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for inst in rds_instances(snapshot):
        outcome = _judge(snapshot, settings, inst)
        if isinstance(outcome, Risk):
            result.risks.append(outcome)
        elif outcome is not None:
            result.skipped.append(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, inst: RdsInstance) -> Risk | Skipped | None:
    resource = inst.resource
    stopped = inst.not_running
    if stopped:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{stopped}: only running instances are sized")
    if inst.pending_instance_class:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"a change to {inst.pending_instance_class} is already pending "
                           "(it applies in the next maintenance window)")
    classes = classes_for_engine(inst.engine, inst.family)
    if classes is None or inst.instance_class not in classes or \
            inst.instance_class not in CLASS_SPECS:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{inst.instance_class} ({inst.engine or 'unknown engine'}): its "
                           f"class family is not tabled for the engine ({CLASS_SUPPORT_SOURCE})"
                           ", so no larger class can be named")

    cpu = snapshot.one_series(resource.account, resource.region, RDS, "CPUUtilization",
                              resource.name, "Maximum")
    free = snapshot.one_series(resource.account, resource.region, RDS, "FreeableMemory",
                               resource.name, "Minimum")
    expected = snapshot.expected_datapoints
    cpu_judged = cpu.coverage(expected) >= settings.min_coverage
    mem_judged = free.coverage(expected) >= settings.min_coverage
    if not cpu_judged and not mem_judged:
        return skipped_for(
            resource, RULE_ID, "insufficient-data",
            f"CPU Maximum {cpu.count} and FreeableMemory Minimum {free.count} of {expected} "
            f"hourly datapoints; needs {settings.min_coverage:.0%} of the window")

    vcpu, memory_gib = CLASS_SPECS[inst.instance_class]
    share = share_at_or_above(cpu, settings.cpu_saturated_percent) if cpu_judged else 0.0
    cpu_risk = cpu_judged and share >= settings.min_saturated_share
    in_use_gib = max(0.0, memory_gib - free.minimum / GIB) if mem_judged else float("nan")
    in_use_percent = 100 * in_use_gib / memory_gib if mem_judged else float("nan")
    mem_risk = mem_judged and in_use_percent > settings.memory_peak_percent
    if not cpu_risk and not mem_risk:
        return None

    current = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                     multi_az=inst.multi_az, engine=inst.engine)
    if current is None:
        return skipped_for(resource, RULE_ID, "not-applicable", no_price(inst))
    headroom = 1 + settings.headroom_percent / 100
    vcpu_needed = vcpu * headroom if cpu_risk else vcpu
    memory_needed_gib = in_use_gib * headroom if mem_risk else memory_gib
    larger = classes[classes.index(inst.instance_class) + 1:]
    fix = next((name for name in larger if name in CLASS_SPECS
                and CLASS_SPECS[name][0] >= vcpu_needed
                and CLASS_SPECS[name][1] >= memory_needed_gib
                and (not cpu_risk or CLASS_SPECS[name][0] > vcpu)
                and (not mem_risk or CLASS_SPECS[name][1] > memory_gib)), None)
    target = None if fix is None else pricing.rds_hourly_usd(
        resource.region, fix, multi_az=inst.multi_az, engine=inst.engine)

    severity: Severity = "high" if (
        (cpu_risk and share >= settings.high_severity_saturated_share)
        or (mem_risk and in_use_percent >= settings.high_severity_memory_percent)) else "medium"
    days = snapshot.manifest["window"]["days"]
    problems = []
    if cpu_risk:
        problems.append(f"CPU at or above {settings.cpu_saturated_percent:g}% of {vcpu} vCPU "
                        f"in {share:.0%} of hours")
    if mem_risk:
        problems.append(f"memory in use up to {in_use_gib:.2f} of {memory_gib:g} GiB "
                        f"({in_use_percent:.0f}%: FreeableMemory fell to "
                        f"{free.minimum / GIB:.2f} GiB; check SwapUsage)")
    reason = f"{inst.label}: {' and '.join(problems)} over {days} days"
    if not mem_judged:
        reason += f"; memory not judged ({free.count} of {expected} hourly datapoints)"
    if not cpu_judged:
        reason += f"; CPU not judged ({cpu.count} of {expected} hourly datapoints)"
    evidence: dict[str, object] = {
        "cpu_saturated_share": round(share, 3) if cpu_judged else None,
        "cpu_saturated_percent": settings.cpu_saturated_percent,
        "min_saturated_share": settings.min_saturated_share,
        "cpu_max_percent": rounded(cpu.maximum) if cpu.count else None,
        "memory_in_use_gib": round(in_use_gib, 3) if mem_judged else None,
        "memory_in_use_percent": rounded(in_use_percent) if mem_judged else None,
        "memory_peak_percent": settings.memory_peak_percent,
        "class_vcpu": vcpu,
        "class_memory_gib": memory_gib,
        "headroom_percent": settings.headroom_percent,
        "cpu_coverage": round(cpu.coverage(expected), 3),
        "memory_coverage": round(free.coverage(expected), 3),
        "hourly_current_usd": current.usd,
        "multi_az": inst.multi_az,
        "price_source": current.source,
        "specs_source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
        "Concepts.DBInstanceClass.Summary.html",
        "class_support_source": CLASS_SUPPORT_SOURCE,
    }
    current_size = {"instance_class": inst.instance_class, "multi_az": inst.multi_az}
    monthly = current.usd * pricing.HOURS_PER_MONTH
    if fix is None or target is None:
        evidence["no_valid_fix"] = True
        reason += (f"; no larger {inst.family} class for {inst.engine} holds it"
                   if fix is None else f"; {no_price(inst, fix)}")
        reason += ": a class of another family (or read replicas for reads) is the way out"
        return risk_for(resource, RULE_ID, current=current_size, recommended={},
                        monthly_cost_usd=monthly, monthly_savings_usd=0.0, evidence=evidence,
                        reason=reason, severity=severity)
    increase = (target.usd - current.usd) * pricing.HOURS_PER_MONTH
    fix_vcpu, fix_memory_gib = CLASS_SPECS[fix]
    evidence.update(no_valid_fix=False, hourly_recommended_usd=target.usd,
                    target_vcpu=fix_vcpu, target_memory_gib=fix_memory_gib)
    reason += (f"; {fix} ({fix_vcpu} vCPU, {fix_memory_gib:g} GiB) is the next class of the "
               f"family that holds it with {settings.headroom_percent:g}% headroom "
               f"(+${increase:.2f}/month)")
    if inst.multi_az:
        reason += "; Multi-AZ: the price counts the standby too"
    return risk_for(resource, RULE_ID, current=current_size,
                    recommended={"instance_class": fix, "multi_az": inst.multi_az},
                    monthly_cost_usd=monthly, monthly_savings_usd=-increase,
                    evidence=evidence, reason=reason, severity=severity)


def how_to_apply(finding: Finding) -> dict[str, str]:
    """ModifyDBInstance to the larger class, as rds-rightsize applies its smaller one."""
    if not finding.recommended:
        return {"cli": "", "terraform": "", "cdk": ""}
    return rds_rightsize.how_to_apply(finding)


RULE = Rule(
    id=RULE_ID,
    title="Databases that run out of CPU or memory",
    why=(
        "A database pinned at 100% CPU queues every query behind the busy ones, and one whose "
        "free memory runs out swaps to disk. The fix is the next class of the same family "
        "(valid for the engine) with more of what runs out, priced as a monthly increase. It "
        "is a risk, never counted in savings."
    ),
    resource_type="rds-instance",
    bill_services=("Amazon Relational Database Service",),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("rds-instance", RDS, "CPUUtilization", ("Maximum",)),
        MetricNeed("rds-instance", RDS, "FreeableMemory", ("Minimum",)),
    ),
    supersedes=(rds_rightsize.RULE_ID,),
)
