"""rds-rightsize: databases whose CPU and memory would fit the next smaller class."""

from __future__ import annotations

from pydantic import Field

from rightsizer import pricing
from rightsizer.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.rds_common import RdsInstance, no_price, rds_instances
from rightsizer.rules.series import rounded
from rightsizer.series_stats import OneSeries
from rightsizer.snapshot import Snapshot

RULE_ID = "rds-rightsize"
RDS = "AWS/RDS"
GIB = 1024**3

# (vCPU, memory GiB) of every class rds_classes_in_family() knows. Source: Amazon RDS instance
# types, https://aws.amazon.com/rds/instance-types/ (and the "Hardware specifications for DB
# instance classes" table of the RDS User Guide). Graviton classes match their Intel peers.
CLASS_SPECS: dict[str, tuple[int, float]] = {
    **{f"db.{family}.{size}": spec for family in ("t3", "t4g") for size, spec in {
        "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
        "xlarge": (4, 16), "2xlarge": (8, 32)}.items()},
    **{f"db.{family}.{size}": spec for family in ("m5", "m6g") for size, spec in {
        "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32), "4xlarge": (16, 64)}.items()},
    **{f"db.{family}.{size}": spec for family in ("r5", "r6g") for size, spec in {
        "large": (2, 16), "xlarge": (4, 32), "2xlarge": (8, 64), "4xlarge": (16, 128)}.items()},
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
    for inst in rds_instances(snapshot):
        outcome = _judge(snapshot, settings, inst)
        if isinstance(outcome, Finding):
            result.findings.append(outcome)
        elif outcome is not None:
            result.skipped.append(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, inst: RdsInstance) -> Finding | Skipped | None:
    resource = inst.resource
    if inst.status != "available":
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"status is {inst.status}: only running instances are sized")
    classes = pricing.rds_classes_in_family(inst.family)
    if inst.instance_class not in classes or inst.instance_class not in CLASS_SPECS:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{inst.instance_class}: class sizes not tabled for this family")
    position = classes.index(inst.instance_class)
    if position == 0:
        return None  # already the smallest class of its family: nothing smaller to offer
    smaller = classes[position - 1]

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
        "specs_source": "https://aws.amazon.com/rds/instance-types/",
    }
    return finding_for(
        resource, RULE_ID,
        current={"instance_class": inst.instance_class, "multi_az": inst.multi_az},
        recommended={"instance_class": smaller, "multi_az": inst.multi_az},
        monthly_cost_usd=current.usd * pricing.HOURS_PER_MONTH,
        monthly_savings_usd=(current.usd - target.usd) * pricing.HOURS_PER_MONTH,
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    target = finding.recommended["instance_class"]
    return {
        "cli": (
            "# applies in the next maintenance window; add --apply-immediately to restart now "
            "(Multi-AZ fails over to the standby, a short interruption)\n"
            f"aws rds modify-db-instance --region {finding.region} "
            f"--db-instance-identifier {finding.name} --db-instance-class {target}"
        ),
        "iac": (
            "# Terraform aws_db_instance\n"
            f"instance_class = \"{target}\"\n"
            "# CloudFormation AWS::RDS::DBInstance\n"
            f"DBInstanceClass: {target}"
        ),
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
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("rds-instance", RDS, "CPUUtilization", ("Maximum",)),
        MetricNeed("rds-instance", RDS, "FreeableMemory", ("Minimum",)),
    ),
)
