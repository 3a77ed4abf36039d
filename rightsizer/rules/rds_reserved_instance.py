"""rds-reserved-instance: databases that run 24/7 without a reservation."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import (
    MetricNeed,
    Rule,
    RuleResult,
    RuleSettings,
    unreadable_reservations_caveat,
    uptime_shortfall,
)
from rightsizer.rules.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.support.rds_common import (
    DB_CLASS_SIZES,
    HELD_RESERVATION_STATES,
    NORMALIZED_UNITS,
    RdsInstance,
    family_of,
    no_price,
    rds_instances,
    reservation_held,
    size_of,
)
from rightsizer.snapshot.store import Snapshot, records

RULE_ID = "rds-reserved-instance"
SOURCE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithReservedDBInstances.html"

# ProductDescription of a reservation (and the filter of DescribeReservedDBInstancesOfferings)
# for an engine: "postgresql" and "mysql" as AWS's CLI examples for
# describe-reserved-db-instances-offerings show them; any other engine is matched under its own
# name. The offerings filter matches partially, so the command also filters on the exact value.
RESERVATION_PRODUCT = {"postgres": "postgresql", "mysql": "mysql", "mariadb": "mariadb"}
# Size flexibility (normalized units, pooled within a class type, across Single-/Multi-AZ)
# applies to MariaDB, MySQL, PostgreSQL and Oracle bring-your-own-license only (SOURCE,
# "Size-flexible reserved DB instances"); other reservations match one class exactly.
SIZE_FLEXIBLE_ENGINES = frozenset({"mariadb", "mysql", "postgres"})
ONE_YEAR_SECONDS = 31_536_000  # --duration accepts 1 | 3 | 31536000 | 94608000


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


def product_of(engine: str, license_model: str = "") -> str:
    """The reservation ProductDescription an instance of this engine is billed under."""
    engine = engine.strip().lower()
    if engine.startswith(("oracle", "sqlserver")):
        # e.g. "oracle-se2(li)", "sqlserver-ex(li)" (AWS CLI examples); BYOL otherwise
        return f"{engine}({'li' if license_model == 'license-included' else 'byol'})"
    return RESERVATION_PRODUCT.get(engine, engine)


def size_flexible(inst: RdsInstance) -> bool:
    return inst.engine in SIZE_FLEXIBLE_ENGINES or (
        inst.engine.startswith("oracle") and inst.license_model == "bring-your-own-license")


def _units(instance_class: str, multi_az: bool) -> float:
    return NORMALIZED_UNITS.get(size_of(instance_class), 0) * (2 if multi_az else 1)


@dataclass
class _Held:
    """Reservations of one account and region, as coverage still to hand out."""

    units: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    exact: dict[tuple[str, bool, str], int] = field(default_factory=lambda: defaultdict(int))
    # reservations in a state this rule does not know: (family, product) -> "id (state)"
    unknown: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))


def _held_reservations(snapshot: Snapshot) -> dict[tuple[str, str], _Held]:
    """Held (active or payment-pending) reservations per (account, region)."""
    held: dict[tuple[str, str], _Held] = defaultdict(_Held)
    for row in records(snapshot.table("rds_reservations")):
        pool = held[(str(row["account"]), str(row["region"]))]
        instance_class = str(row["instance_class"]).lower()
        product = str(row.get("product_description") or "").lower()
        multi_az = bool(row.get("multi_az"))
        count = int(row.get("instance_count") or 1)
        state = str(row.get("state") or "")
        verdict = reservation_held(state)
        if verdict is None:
            pool.unknown[(family_of(instance_class), product)].append(
                f"{row.get('reservation_id') or '?'} ({state or 'no state'})")
            continue
        if not verdict:
            continue  # retired or payment-failed: bills nothing against usage
        pool.units[(family_of(instance_class), product)] += _units(instance_class,
                                                                   multi_az) * count
        pool.exact[(instance_class, multi_az, product)] += count
    return held


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    held = _held_reservations(snapshot)
    expected = snapshot.expected_datapoints
    # Larger instances claim reserved units first, as AWS applies size-flexible reservations.
    for inst in sorted(rds_instances(snapshot), key=lambda inst: -inst.units):
        outcome = _judge(snapshot, settings, inst, held, expected)
        result.add(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, inst: RdsInstance,
           held: dict[tuple[str, str], _Held], expected: int) -> Finding | Skipped | None:
    resource = inst.resource
    stopped = inst.not_running
    if stopped:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{stopped}: reserve only databases that run around the clock")
    cpu = snapshot.one_series(resource.account, resource.region, "AWS/RDS", "CPUUtilization",
                              resource.name, "Maximum")
    ran = cpu.coverage(expected)
    shortfall = uptime_shortfall(ran, settings.min_coverage)
    if shortfall:
        return skipped_for(resource, RULE_ID, "insufficient-data", shortfall)
    product = product_of(inst.engine, inst.license_model)
    pool = held[(resource.account, resource.region)]
    flexible = size_flexible(inst)
    if flexible:
        key = (inst.family, product)
        covered = min(pool.units.get(key, 0.0), inst.units)
        pool.units[key] = pool.units.get(key, 0.0) - covered
        if inst.units and covered >= inst.units:
            return None  # covered by held reservations
    else:
        exact_key = (inst.instance_class, inst.multi_az, product)
        if pool.exact.get(exact_key, 0) > 0:
            pool.exact[exact_key] -= 1
            return None
        covered = 0.0
    unknown = pool.unknown.get((inst.family, product))
    if unknown:
        return skipped_for(
            resource, RULE_ID, "not-applicable",
            f"reservation {', '.join(unknown)} is in a state this rule does not know: it may "
            f"already cover this {product} {inst.family} database; check it before buying")
    on_demand = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                       multi_az=inst.multi_az, engine=inst.engine)
    reserved_price = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                            multi_az=inst.multi_az, engine=inst.engine,
                                            term="1yr-no-upfront")
    if on_demand is None or reserved_price is None:
        return skipped_for(resource, RULE_ID, "not-applicable", no_price(inst))
    purchase = _purchase(inst, inst.units - covered) if flexible else [
        {"instance_class": inst.instance_class, "multi_az": inst.multi_az, "count": 1}]
    return _finding(inst, settings, on_demand, reserved_price, ran, cpu.rows, covered,
                    product, purchase, snapshot)


def _purchase(inst: RdsInstance, units: float) -> list[dict[str, Any]]:
    """Reservations that add up to `units` normalized units: the instance's own class and
    deployment when nothing covers it yet, else Single-AZ reservations of the type's sizes,
    largest first (size flexibility applies them to any size and either deployment)."""
    if units >= inst.units:
        return [{"instance_class": inst.instance_class, "multi_az": inst.multi_az, "count": 1}]
    sizes = [size for size in DB_CLASS_SIZES.get(inst.family, (size_of(inst.instance_class),))
             if size in NORMALIZED_UNITS]
    plan: list[dict[str, Any]] = []
    for size in sorted(sizes, key=lambda size: -NORMALIZED_UNITS[size]):
        count = int(units // NORMALIZED_UNITS[size])
        if count:
            plan.append({"instance_class": f"{inst.family}.{size}", "multi_az": False,
                         "count": count})
            units -= count * NORMALIZED_UNITS[size]
    return plan


def _finding(inst: RdsInstance, settings: Settings, on_demand: pricing.Price,
             reserved_price: pricing.Price, ran: float, datapoints: int,
             covered_units: float, product: str, purchase: list[dict[str, Any]],
             snapshot: Snapshot) -> Finding:
    # Only the units no reservation covers yet are worth buying (size flexibility).
    uncovered_share = 1 - covered_units / inst.units if inst.units else 1.0
    monthly = on_demand.usd * pricing.HOURS_PER_MONTH
    monthly_reserved = reserved_price.usd * pricing.HOURS_PER_MONTH
    role = f"read replica of {inst.replica_of}" if inst.replica_of else "primary"
    coverage = ("no active or payment-pending reservation covers it" if not covered_units else
                f"reservations cover only {covered_units:g} of its {inst.units:g} units")
    reason = (
        f"{inst.label} ({role}) reported CPU in {ran:.0%} of the window and {coverage}; "
        f"a {settings.term} {settings.offering} reservation costs "
        f"{1 - reserved_price.usd / on_demand.usd:.0%} less"
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
        "reservation_states_counted": sorted(HELD_RESERVATION_STATES),
        "engine": inst.engine,
        "product_description": product,
        "size_flexible": size_flexible(inst),
        "purchase": purchase,
        "price_source": on_demand.source,
        "reservation_source": SOURCE,
    }
    return finding_for(
        inst.resource, RULE_ID,
        current={"instance_class": inst.instance_class, "multi_az": inst.multi_az},
        recommended={"term": settings.term, "offering": settings.offering,
                     **({"normalized_units": inst.units - covered_units}
                        if covered_units else {})},
        monthly_cost_usd=monthly * uncovered_share,
        monthly_savings_usd=(monthly - monthly_reserved) * uncovered_share,
        pricing=pricing.basis(on_demand, recommended=(reserved_price,)),
        evidence=evidence,
        reason=reason,
    )


def _tf_name(*parts: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))
    return name if re.match(r"[A-Za-z_]", name) else f"r_{name}"


def how_to_apply(finding: Finding) -> dict[str, str]:
    region = shlex.quote(finding.region)
    product = str(finding.evidence.get("product_description") or "postgresql")
    purchase = finding.evidence.get("purchase") or [
        {"instance_class": finding.current["instance_class"],
         "multi_az": bool(finding.current.get("multi_az")), "count": 1}]
    cli = ["# A reservation is a 1-year billing commitment that cannot be cancelled. Each block "
           "finds the offering, then buys it only if one was found."]
    terraform = ["# Terraform AWS provider: a reservation cannot be cancelled or refunded "
                 "(terraform destroy does not end it)."]
    for number, item in enumerate(purchase, start=1):
        cls, multi_az, count = item["instance_class"], bool(item["multi_az"]), int(item["count"])
        variable = "OFFERING" if len(purchase) == 1 else f"OFFERING_{number}"
        label = f"{cls}{' Multi-AZ' if multi_az else ''} {product}"
        # exact match on the product (the API filter matches partially) and the deployment
        query = (f"ReservedDBInstancesOfferings[?ProductDescription==`\"{product}\"` && "
                 f"MultiAZ==`{'true' if multi_az else 'false'}`].ReservedDBInstancesOfferingId"
                 f" | [0]")
        cli.append(
            f"{variable}=$(aws rds describe-reserved-db-instances-offerings "
            f"--db-instance-class {shlex.quote(cls)} --product-description "
            f"{shlex.quote(product)} {'--multi-az' if multi_az else '--no-multi-az'} "
            f"--duration {ONE_YEAR_SECONDS} --offering-type \"No Upfront\" "
            f"--query {shlex.quote(query)} --output text --region {region})")
        cli.append(
            f"if [ -n \"${variable}\" ] && [ \"${variable}\" != None ]; then "
            f"aws rds purchase-reserved-db-instances-offering "
            f"--reserved-db-instances-offering-id \"${variable}\" --db-instance-count {count} "
            f"--region {region}; else echo \"no matching offering for {label}: nothing "
            f"bought\" >&2; fi")
        name = _tf_name(finding.name, str(number)) if len(purchase) > 1 else _tf_name(
            finding.name)
        terraform.append(
            f"data \"aws_rds_reserved_instance_offering\" \"{name}\" {{\n"
            f"  db_instance_class   = \"{cls}\"\n"
            f"  duration            = {ONE_YEAR_SECONDS}\n"
            f"  multi_az            = {'true' if multi_az else 'false'}\n"
            f"  offering_type       = \"No Upfront\"\n"
            f"  product_description = \"{product}\"\n}}\n"
            f"resource \"aws_rds_reserved_instance\" \"{name}\" {{\n"
            f"  offering_id    = data.aws_rds_reserved_instance_offering.{name}.offering_id\n"
            f"  instance_count = {count}\n}}")
    return {
        "cli": "\n".join(cli),
        "terraform": "\n".join(terraform),
        # CloudFormation (and so CDK) has no resource for a reserved DB instance.
        "cdk": "",
    }


RULE = Rule(
    id=RULE_ID,
    title="Reserve databases that run 24/7",
    why=(
        "An RDS instance that runs every hour of the month pays the on-demand rate for "
        "capacity it will keep using. A 1-year No Upfront reservation needs no cash up front "
        "and lowers the hourly rate; reservations are size-flexible within an instance family "
        "for PostgreSQL, MySQL and MariaDB, so a later resize within the family keeps the "
        "discount. Active and payment-pending reservations already held are counted first."
    ),
    resource_type="rds-instance",
    bill_services=('Amazon Relational Database Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(MetricNeed("rds-instance", "AWS/RDS", "CPUUtilization", ("Maximum",)),),
)
