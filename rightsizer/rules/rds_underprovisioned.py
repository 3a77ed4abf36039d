"""rds-underprovisioned: databases pinned at their CPU or short of memory (a risk, not a saving)."""

from __future__ import annotations

import math

from rightsizer import pricing
from rightsizer.rules import rds_rightsize
from rightsizer.rules.base import MetricNeed, Rule, RuleResult
from rightsizer.rules.findings import Finding, Risk, Skipped, risk_for, skipped_for
from rightsizer.rules.rds_rightsize import CLASS_SPECS, GIB, RDS
from rightsizer.rules.support.pressure import PressureSettings, measure, not_enough_data
from rightsizer.rules.support.rds_common import (
    CLASS_SUPPORT_SOURCE,
    RdsInstance,
    classes_for_engine,
    no_price,
    rds_instances,
)
from rightsizer.rules.support.series import rounded
from rightsizer.snapshot.store import Snapshot

RULE_ID = "rds-underprovisioned"


class Settings(PressureSettings):
    """The shared thresholds (rules/support/pressure.py); memory in use is the class's memory
    minus the lowest FreeableMemory."""


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for inst in rds_instances(snapshot):
        outcome = _judge(snapshot, settings, inst)
        result.add(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, inst: RdsInstance) -> Risk | Skipped | None:
    resource = inst.resource
    if inst.class_change_problem:
        return skipped_for(resource, RULE_ID, "not-applicable", inst.class_change_problem)
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
    vcpu, memory_gib = CLASS_SPECS[inst.instance_class]
    in_use_gib = max(0.0, memory_gib - free.minimum / GIB) if free.count else math.nan
    pressure = measure(cpu, free, expected, settings, 100 * in_use_gib / memory_gib)
    if pressure is None:
        return skipped_for(resource, RULE_ID, "insufficient-data",
                           not_enough_data(cpu, free, expected, settings, "FreeableMemory"))
    if not pressure.at_risk:
        return None
    cpu_risk, mem_risk = pressure.cpu_risk, pressure.memory_risk

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

    days = snapshot.manifest["window"]["days"]
    problems = []
    if cpu_risk:
        problems.append(f"CPU at or above {settings.cpu_saturated_percent:g}% of {vcpu} vCPU "
                        f"in {pressure.saturated_share:.0%} of hours")
    if mem_risk:
        problems.append(f"memory in use up to {in_use_gib:.2f} of {memory_gib:g} GiB "
                        f"({pressure.memory_percent:.0f}%: FreeableMemory fell to "
                        f"{free.minimum / GIB:.2f} GiB; check SwapUsage)")
    reason = f"{inst.label}: {' and '.join(problems)} over {days} days" + pressure.not_judged()
    evidence: dict[str, object] = {
        **pressure.evidence(settings),
        "memory_in_use_gib": round(in_use_gib, 3) if pressure.memory_judged else None,
        "memory_in_use_percent": rounded(pressure.memory_percent)
        if pressure.memory_judged else None,
        "class_vcpu": vcpu,
        "class_memory_gib": memory_gib,
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
                        reason=reason, severity=pressure.severity(settings))
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
                    evidence=evidence, reason=reason, severity=pressure.severity(settings))


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
