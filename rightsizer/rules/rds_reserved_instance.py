"""rds-reserved-instance: databases that run 24/7 without a reservation."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from pydantic import Field

from rightsizer import pricing
from rightsizer.findings import Finding, finding_for, skipped_for
from rightsizer.rules.base import (
    MetricNeed,
    Rule,
    RuleResult,
    RuleSettings,
    unreadable_reservations_caveat,
    uptime_shortfall,
)
from rightsizer.rules.rds_common import NORMALIZED_UNITS, RdsInstance, no_price, rds_instances
from rightsizer.snapshot import Snapshot, records

RULE_ID = "rds-reserved-instance"

# product descriptions DescribeReservedDBInstances reports for each engine
RESERVATION_PRODUCT = {"postgres": "postgresql", "mysql": "mysql", "mariadb": "mariadb"}


class Settings(RuleSettings):
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window the instance must have reported CPU datapoints "
        "(evidence it ran steadily, not just that it exists).",
    )
    term: Literal["1yr"] = Field("1yr", description="Reservation term to recommend.")
    offering: Literal["No Upfront"] = Field(
        "No Upfront", description="Payment option to recommend."
    )


def _reserved_units(snapshot: Snapshot) -> dict[tuple[str, str, str, str], float]:
    """Active reserved units per (account, region, family, product)."""
    units: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for row in records(snapshot.table("rds_reservations")):
        if str(row.get("state")) != "active":
            continue
        instance_class = str(row["instance_class"])
        size = instance_class.rsplit(".", 1)[-1]
        multiplier = 2 if bool(row.get("multi_az")) else 1
        count = int(row.get("instance_count") or 1)
        key = (str(row["account"]), str(row["region"]), instance_class.rsplit(".", 1)[0],
               str(row.get("product_description") or "").lower())
        units[key] += NORMALIZED_UNITS.get(size, 0) * multiplier * count
    return units


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    reserved = _reserved_units(snapshot)
    expected = snapshot.expected_datapoints
    # Larger instances claim reserved units first, as AWS applies size-flexible reservations.
    instances = sorted(rds_instances(snapshot), key=lambda inst: -inst.units)
    for inst in instances:
        resource = inst.resource
        if inst.status != "available":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"status is {inst.status}: reserve only databases that run around the clock"))
            continue
        cpu = snapshot.one_series(resource.account, resource.region, "AWS/RDS",
                                  "CPUUtilization", resource.name, "Maximum")
        ran = cpu.coverage(expected)
        shortfall = uptime_shortfall(ran, settings.min_coverage)
        if shortfall:
            result.skipped.append(skipped_for(resource, RULE_ID, "insufficient-data", shortfall))
            continue
        product = RESERVATION_PRODUCT.get(inst.engine.split("-")[0], inst.engine)
        key = (resource.account, resource.region, inst.family, product)
        covered_units = min(reserved.get(key, 0.0), inst.units)
        if inst.units and covered_units >= inst.units:
            reserved[key] -= inst.units
            continue  # covered by an active reservation
        reserved[key] = reserved.get(key, 0.0) - covered_units
        on_demand = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                           multi_az=inst.multi_az, engine=inst.engine)
        reserved_price = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                                multi_az=inst.multi_az, engine=inst.engine,
                                                term="1yr-no-upfront")
        if on_demand is None or reserved_price is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              no_price(inst)))
            continue
        result.findings.append(_finding(inst, settings, on_demand, reserved_price, ran,
                                        cpu.rows, covered_units, snapshot))
    return result


def _finding(inst: RdsInstance, settings: Settings, on_demand: pricing.Price,
             reserved_price: pricing.Price, ran: float, datapoints: int,
             covered_units: float, snapshot: Snapshot) -> Finding:
    # Only the units no reservation covers yet are worth buying (size flexibility).
    uncovered_share = 1 - covered_units / inst.units if inst.units else 1.0
    monthly = on_demand.usd * pricing.HOURS_PER_MONTH
    monthly_reserved = reserved_price.usd * pricing.HOURS_PER_MONTH
    role = f"read replica of {inst.replica_of}" if inst.replica_of else "primary"
    reason = (
        f"{inst.instance_class}{' Multi-AZ' if inst.multi_az else ''} ({role}) reported CPU "
        f"in {ran:.0%} of the window and "
        f"{'no active reservation covers it' if not covered_units else 'reservations cover only '}"
        f"{'' if not covered_units else f'{covered_units:g} of its {inst.units:g} units'}"
        f"; a {settings.term} "
        f"{settings.offering} reservation costs {1 - reserved_price.usd / on_demand.usd:.0%} less"
    )
    caveat = unreadable_reservations_caveat(snapshot, "rds", "DescribeReservedDBInstances",
                                            inst.resource, "reservations")
    reason += caveat
    evidence = {
        "coverage": round(ran, 3),
        "datapoints": datapoints,
        "hourly_on_demand_usd": on_demand.usd,
        "hourly_reserved_usd": reserved_price.usd,
        "normalized_units": inst.units,
        "covered_units": covered_units,
        "uncovered_share": round(uncovered_share, 3),
        "reservations_readable": not caveat,
        "price_source": on_demand.source,
    }
    return finding_for(
        inst.resource, RULE_ID,
        current={"instance_class": inst.instance_class, "multi_az": inst.multi_az},
        recommended={"term": settings.term, "offering": settings.offering,
                     **({"normalized_units": inst.units - covered_units}
                        if covered_units else {})},
        monthly_cost_usd=monthly * uncovered_share,
        monthly_savings_usd=(monthly - monthly_reserved) * uncovered_share,
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    instance_class = finding.current["instance_class"]
    multi_az = "--multi-az" if finding.current.get("multi_az") else "--no-multi-az"
    return {
        "cli": (
            f"aws rds describe-reserved-db-instances-offerings --region {finding.region} "
            f"--db-instance-class {instance_class} --product-description postgresql "
            f"--duration 31536000 --offering-type \"No Upfront\" {multi_az}\n"
            f"aws rds purchase-reserved-db-instances-offering --region {finding.region} "
            f"--reserved-db-instances-offering-id <offering id> --db-instance-count 1"
        ),
        "iac": "# Reservations are a billing purchase, not infrastructure: buy in the console "
        "(RDS > Reserved instances > Purchase) or with the CLI above.",
    }


RULE = Rule(
    id=RULE_ID,
    title="Reserve databases that run 24/7",
    why=(
        "An RDS instance that runs every hour of the month pays the on-demand rate for "
        "capacity it will keep using. A 1-year No Upfront reservation needs no cash up front "
        "and lowers the hourly rate; reservations are size-flexible within an instance family, "
        "so a later resize within the family keeps the discount."
    ),
    resource_type="rds-instance",
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(MetricNeed("rds-instance", "AWS/RDS", "CPUUtilization", ("Maximum",)),),
)
