"""rds-rightsize: databases whose CPU and memory would fit the next smaller class."""

from __future__ import annotations

import shlex

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.support.rds_common import (
    CLASS_SUPPORT_SOURCE,
    CLASS_TABLE_ENGINES,
    DB_CLASS_SIZES,
    RdsInstance,
    classes_for_engine,
    no_price,
    rds_instances,
)
from rightsizer.rules.support.series import rounded
from rightsizer.snapshot.series import OneSeries
from rightsizer.snapshot.store import Snapshot

RULE_ID = "rds-rightsize"
RDS = "AWS/RDS"
GIB = 1024**3

# (vCPU, memory GiB) of every class DB_CLASS_SIZES lists. Source: "Hardware specifications for
# DB instance classes", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
_SIZE_SPECS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32,
               "12xlarge": 48, "16xlarge": 64, "24xlarge": 96}
CLASS_SPECS: dict[str, tuple[int, float]] = {
    **{f"db.{family}.{size}": spec for family in ("t3", "t4g") for size, spec in {
        "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
        "xlarge": (4, 16), "2xlarge": (8, 32)}.items()},
    # general purpose: 4 GiB a vCPU; memory optimized: 8 GiB a vCPU
    **{f"{family}.{size}": (vcpu, 4.0 * vcpu) for family in ("db.m5", "db.m6g")
       for size, vcpu in _SIZE_SPECS.items() if size in DB_CLASS_SIZES[family]},
    **{f"{family}.{size}": (vcpu, 8.0 * vcpu) for family in ("db.r5", "db.r6g")
       for size, vcpu in _SIZE_SPECS.items() if size in DB_CLASS_SIZES[family]},
}
BURSTABLE_FAMILIES = {"db.t3", "db.t4g"}


class Settings(RuleSettings):
    cpu_threshold_percent: float = Field(
        40, gt=0, le=100,
        description="Flag an instance whose CPU percentile (of the hourly Maximum) stays "
        "under this.",
    )
    cpu_percentile: float = Field(
        95, gt=0, le=100, description="Percentile of the hourly CPU Maximum series used."
    )
    min_free_memory_percent: float = Field(
        50, gt=0, lt=100,
        description="Flag only when the lowest FreeableMemory stays above this share of the "
        "class's memory.",
    )
    memory_headroom_percent: float = Field(
        20, ge=0, le=200,
        description="The smaller class must hold the memory in use plus this margin.",
    )
    max_projected_cpu_percent: float = Field(
        70, gt=0, le=100,
        description="The CPU percentile, scaled by the vCPU ratio, must stay under this on "
        "the smaller class.",
    )
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window that must have CPU and memory datapoints to judge.",
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    instances = rds_instances(snapshot)
    by_name = {(inst.resource.account, inst.resource.region, name): inst
               for inst in instances for name in inst.names()}
    for inst in instances:
        outcome = _judge(snapshot, settings, inst, by_name)
        result.add(outcome)
    return result


def smaller_class(inst: RdsInstance) -> str | Skipped | None:
    """The next smaller DB instance class of the same type that exists for the instance's
    engine (CLASS_SUPPORT_SOURCE); None when it is already the smallest; a skipped row when the
    engine or type is not tabled, so a class that may not exist is never recommended."""
    classes = classes_for_engine(inst.engine, inst.family)
    if classes is None:
        if inst.engine not in CLASS_TABLE_ENGINES:
            detail = (f"DB instance classes for engine '{inst.engine or 'unknown'}' are not "
                      f"tabled (they vary by edition and version: {CLASS_SUPPORT_SOURCE}); "
                      "no smaller class is recommended")
        else:
            detail = f"{inst.instance_class}: class sizes not tabled for this family"
        return skipped_for(inst.resource, RULE_ID, "not-applicable", detail)
    if inst.instance_class not in classes or inst.instance_class not in CLASS_SPECS:
        return skipped_for(inst.resource, RULE_ID, "not-applicable",
                           f"{inst.instance_class} is not a {inst.engine} class of "
                           f"{inst.family} ({', '.join(DB_CLASS_SIZES[inst.family])}) in "
                           f"{CLASS_SUPPORT_SOURCE}")
    position = classes.index(inst.instance_class)
    return classes[position - 1] if position else None


def _judge(snapshot: Snapshot, settings: Settings, inst: RdsInstance,
           by_name: dict[tuple[str, str, str], RdsInstance]) -> Finding | Skipped | None:
    resource = inst.resource
    if inst.class_change_problem:
        return skipped_for(resource, RULE_ID, "not-applicable", inst.class_change_problem)
    smaller = smaller_class(inst)
    if not isinstance(smaller, str):
        return smaller  # a skipped row, or None: already the smallest class of its type

    def series(metric: str, stat: str) -> OneSeries:
        return snapshot.one_series(resource.account, resource.region, RDS, metric,
                                   resource.name, stat)

    cpu_max = series("CPUUtilization", "Maximum")
    free_min = series("FreeableMemory", "Minimum")
    expected = snapshot.expected_datapoints
    window_coverage = min(cpu_max.coverage(expected), free_min.coverage(expected))
    if window_coverage < settings.min_coverage:
        return skipped_for(
            resource, RULE_ID, "insufficient-data",
            f"CPU Maximum {cpu_max.rows} and FreeableMemory Minimum {free_min.rows} of "
            f"{expected} hourly datapoints ({window_coverage:.0%}); needs "
            f"{settings.min_coverage:.0%} of the window")

    vcpu, memory_gib = CLASS_SPECS[inst.instance_class]
    small_vcpu, small_memory_gib = CLASS_SPECS[smaller]
    cpu_need = cpu_max.percentile(settings.cpu_percentile)
    free_min_gib = free_min.minimum / GIB
    free_percent = 100 * free_min_gib / memory_gib
    if cpu_need >= settings.cpu_threshold_percent or free_percent <= \
            settings.min_free_memory_percent:
        return None  # busy enough or memory-bound: keep the class
    # Memory the database really used at its tightest hour, plus headroom, must fit.
    in_use_gib = max(0.0, memory_gib - free_min_gib)
    needed_gib = in_use_gib * (1 + settings.memory_headroom_percent / 100)
    projected_cpu = cpu_need * vcpu / small_vcpu
    if needed_gib > small_memory_gib or projected_cpu >= settings.max_projected_cpu_percent:
        return None  # the next size down would be too tight

    source = by_name.get((resource.account, resource.region, inst.replica_of)) \
        if inst.replica_of else None
    if source is not None and source.instance_class in CLASS_SPECS:
        source_vcpu, source_memory_gib = CLASS_SPECS[source.instance_class]
        if small_vcpu < source_vcpu or small_memory_gib < source_memory_gib:
            # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html
            return skipped_for(
                resource, RULE_ID, "not-applicable",
                f"read replica of {source.resource.name} ({source.instance_class}): AWS "
                f"recommends a read replica with the same or a larger DB instance class than "
                f"its source, so {smaller} is not recommended although the replica's load "
                "would fit it")

    current = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                     multi_az=inst.multi_az, engine=inst.engine)
    target = pricing.rds_hourly_usd(resource.region, smaller, multi_az=inst.multi_az,
                                    engine=inst.engine)
    if current is None or target is None:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           no_price(inst, inst.instance_class if current is None else smaller))
    if target.usd >= current.usd:
        return None

    pct = f"p{settings.cpu_percentile:g}"
    days = snapshot.manifest["window"]["days"]
    reason = (
        f"CPU {pct} {cpu_need:.0f}% (of hourly maxima) and free memory never below "
        f"{free_min_gib:.1f} of {memory_gib:g} GiB ({free_percent:.0f}%) over {days} days; "
        f"{smaller} ({small_vcpu} vCPU, {small_memory_gib:g} GiB) holds the "
        f"{in_use_gib:.1f} GiB in use +{settings.memory_headroom_percent:g}% and CPU "
        f"{pct} would be about {projected_cpu:.0f}%"
    )
    if inst.family in BURSTABLE_FAMILIES:
        reason += ("; burstable class: CPU above the baseline spends CPU credits (and "
                   "Unlimited mode bills surplus credits), so check CPUCreditBalance first")
    if inst.multi_az:
        reason += "; Multi-AZ: the standby changes class too, and the price counts both"
    if inst.replica_ids:
        reason += (f"; it is the source of {len(inst.replica_ids)} read replica(s), which may "
                   "stay on their class")
    evidence = {
        f"cpu_{pct}_percent": rounded(cpu_need),
        "cpu_max_percent": rounded(cpu_max.maximum),
        "free_memory_min_gib": round(free_min_gib, 3),
        "free_memory_min_percent": rounded(free_percent),
        "class_memory_gib": memory_gib,
        "class_vcpu": vcpu,
        "memory_in_use_gib": round(in_use_gib, 3),
        "memory_needed_gib": round(needed_gib, 3),
        "target_memory_gib": small_memory_gib,
        "target_vcpu": small_vcpu,
        f"projected_cpu_{pct}_percent": rounded(projected_cpu),
        "cpu_threshold_percent": settings.cpu_threshold_percent,
        "min_free_memory_percent": settings.min_free_memory_percent,
        "memory_headroom_percent": settings.memory_headroom_percent,
        "max_projected_cpu_percent": settings.max_projected_cpu_percent,
        "coverage": round(window_coverage, 3),
        "datapoints": min(cpu_max.rows, free_min.rows),
        "hourly_current_usd": current.usd,
        "hourly_recommended_usd": target.usd,
        "hours_per_month": pricing.HOURS_PER_MONTH,
        "multi_az": inst.multi_az,
        "read_replica_of": inst.replica_of or None,
        "price_source": current.source,
        "specs_source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
        "Concepts.DBInstanceClass.Summary.html",
        "class_support_source": CLASS_SUPPORT_SOURCE,
    }
    return finding_for(
        resource, RULE_ID,
        current={"instance_class": inst.instance_class, "multi_az": inst.multi_az},
        recommended={"instance_class": smaller, "multi_az": inst.multi_az},
        monthly_cost_usd=current.usd * pricing.HOURS_PER_MONTH,
        monthly_savings_usd=(current.usd - target.usd) * pricing.HOURS_PER_MONTH,
        pricing=pricing.basis(current, recommended=(target,)),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    target = str(finding.recommended["instance_class"])
    name, region = shlex.quote(finding.name), shlex.quote(finding.region)
    multi_az = bool(finding.current.get("multi_az"))
    restart = ("RDS changes the standby first, then fails over to it (a short interruption)"
               if multi_az else "the instance restarts on the new class (downtime of a few "
               "minutes)")
    return {
        # ModifyDBInstance: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
        "cli": (
            f"# Queued for the next maintenance window (--no-apply-immediately); {restart}. "
            "Use --apply-immediately instead to change it now.\n"
            f"aws rds modify-db-instance --db-instance-identifier {name} "
            f"--db-instance-class {shlex.quote(target)} --no-apply-immediately "
            f"--region {region}"
        ),
        "terraform": (
            "# aws_db_instance (set apply_immediately = true to change it now)\n"
            f"instance_class = \"{target}\""
        ),
        # rds.DatabaseInstance takes the EC2 instance type without the "db." prefix
        "cdk": f"instanceType: new ec2.InstanceType(\"{target.removeprefix('db.')}\")",
    }


RULE = Rule(
    id=RULE_ID,
    title="Right-size over-provisioned databases",
    why=(
        "RDS bills the instance class, not what the database uses. An instance whose CPU "
        "peaks stay low and that never uses half of its memory pays every hour for capacity "
        "it does not need. The rule proposes one size down in the same family only when the "
        "smaller class still holds the memory actually in use with headroom and the CPU, "
        "scaled to fewer vCPUs, stays moderate; a reservation in the family keeps applying."
    ),
    resource_type="rds-instance",
    bill_services=('Amazon Relational Database Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("rds-instance", RDS, "CPUUtilization", ("Maximum",)),
        MetricNeed("rds-instance", RDS, "FreeableMemory", ("Minimum",)),
    ),
)
