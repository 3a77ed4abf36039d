"""rds-multi-az-nonprod: Multi-AZ standbys on databases that are not production."""

from __future__ import annotations

import shlex
from fnmatch import fnmatchcase

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Skipped, finding_for, skipped_for
from rightsizer.rules.support.rds_common import RdsInstance, no_price, rds_instances
from rightsizer.snapshot.store import Snapshot

RULE_ID = "rds-multi-az-nonprod"
# "In a Multi-AZ DB instance deployment, Amazon RDS automatically provisions and maintains a
# synchronous standby replica in a different Availability Zone"; the standby serves no reads.
MULTI_AZ_DOC = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
                "Concepts.MultiAZSingleStandby.html")


class Settings(RuleSettings):
    tag_keys: list[str] = Field(
        default_factory=lambda: ["env", "environment", "stage"],
        description="Tag keys (case-insensitive) that name a database's environment; the "
        "first one present decides, before any name pattern.",
    )
    nonprod_values: list[str] = Field(
        default_factory=lambda: ["dev", "development", "staging", "stage", "test", "qa",
                                 "nonprod", "sandbox"],
        description="Environment tag values (case-insensitive) that mark a database as "
        "non-production.",
    )
    production_values: list[str] = Field(
        default_factory=lambda: ["production", "prod", "prd", "live"],
        description="Environment tag values (case-insensitive) that mark a database as "
        "production: never flagged, whatever its name.",
    )
    name_patterns: list[str] = Field(
        default_factory=lambda: ["*-staging*", "*-dev*", "*-test*"],
        description="Glob patterns (case-insensitive) on the DB instance identifier that mark "
        "an instance without an environment tag as non-production.",
    )


def environment(inst: RdsInstance, settings: Settings) -> tuple[str, str]:
    """("nonprod" | "production" | "other" | "unknown", why). The environment tag decides
    when there is one; only an untagged instance is judged by its name."""
    tags = {key.strip().lower(): str(value) for key, value in inst.resource.tags.items()}
    for key in settings.tag_keys:
        value = tags.get(key.strip().lower())
        if value is None:
            continue
        normalized = value.strip().lower()
        if normalized in {v.strip().lower() for v in settings.production_values}:
            return "production", f"tagged {key}={value}"
        if normalized in {v.strip().lower() for v in settings.nonprod_values}:
            return "nonprod", f"tagged {key}={value}"
        return "other", f"tagged {key}={value}"
    name = inst.resource.name.lower()
    for pattern in settings.name_patterns:
        if fnmatchcase(name, pattern.lower()):
            return "nonprod", f"no environment tag; its name matches {pattern!r}"
    return "unknown", "no environment tag and no name pattern matches"


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for inst in rds_instances(snapshot):
        if not inst.multi_az:
            continue  # Single-AZ: no standby to remove
        verdict, why = environment(inst, settings)
        if verdict != "nonprod":
            continue  # production, or not known to be anything else: Multi-AZ stays
        outcome = _judge(inst, why)
        result.add(outcome)
    return result


def _judge(inst: RdsInstance, why: str) -> Finding | Skipped:
    resource = inst.resource
    stopped = inst.not_running
    if stopped:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{stopped}: Multi-AZ is judged only on a running instance")
    multi = pricing.rds_hourly_usd(resource.region, inst.instance_class, multi_az=True,
                                   engine=inst.engine)
    single = pricing.rds_hourly_usd(resource.region, inst.instance_class, multi_az=False,
                                    engine=inst.engine)
    if multi is None or single is None:
        return skipped_for(resource, RULE_ID, "not-applicable", no_price(inst))
    hours = pricing.HOURS_PER_MONTH
    standby_monthly = max(0.0, multi.usd - single.usd) * hours
    storage_multi = storage_single = None
    if inst.storage_type and inst.allocated_storage_gb:
        storage_multi = pricing.rds_storage_gb_month_usd(resource.region, inst.storage_type,
                                                         multi_az=True)
        storage_single = pricing.rds_storage_gb_month_usd(resource.region, inst.storage_type,
                                                          multi_az=False)
    storage_priced = storage_multi is not None and storage_single is not None
    storage_monthly = ((storage_multi.usd - storage_single.usd) * inst.allocated_storage_gb
                       if storage_multi is not None and storage_single is not None else 0.0)
    storage_text = (f" + ${storage_monthly:,.2f} for its copy of the {inst.allocated_storage_gb}"
                    f" GB {inst.storage_type} volume" if storage_priced else
                    f" (the standby's {inst.storage_type or 'storage'} volume is not priced "
                    f"for {resource.region}, not counted)")
    monthly_cost = multi.usd * hours + (storage_multi.usd * inst.allocated_storage_gb
                                        if storage_multi is not None else 0.0)
    savings = standby_monthly + storage_monthly
    reason = (
        f"{why}, yet Multi-AZ: the standby ({inst.instance_class}) costs "
        f"${standby_monthly:,.2f}/month{storage_text}; a non-production database can take "
        "the minutes of a Single-AZ recovery. Production stays Multi-AZ"
    )
    evidence = {
        "environment": why,
        "instance_class": inst.instance_class,
        "engine": inst.engine,
        "hourly_multi_az_usd": multi.usd,
        "hourly_single_az_usd": single.usd,
        "hours_per_month": hours,
        "standby_instance_monthly_usd": round(standby_monthly, 2),
        "storage_type": inst.storage_type or None,
        "allocated_storage_gb": inst.allocated_storage_gb,
        "standby_storage_monthly_usd": round(storage_monthly, 2) if storage_priced else None,
        "price_source": multi.source,
        "storage_price_source": storage_multi.source if storage_multi is not None else None,
        "multi_az_doc": MULTI_AZ_DOC,
        "note": "provisioned IOPS and backup storage are not counted",
    }
    return finding_for(
        resource, RULE_ID,
        current={"instance_class": inst.instance_class, "multi_az": True},
        recommended={"instance_class": inst.instance_class, "multi_az": False},
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=savings,
        pricing=pricing.basis(multi, storage_multi, recommended=(single, storage_single)),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    name, region = shlex.quote(finding.name), shlex.quote(finding.region)
    return {
        # ModifyDBInstance MultiAZ: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
        "cli": (
            "# Queued for the next maintenance window (--no-apply-immediately); use "
            "--apply-immediately to remove the standby now.\n"
            f"aws rds modify-db-instance --db-instance-identifier {name} --no-multi-az "
            f"--no-apply-immediately --region {region}"
        ),
        "terraform": "# aws_db_instance (set apply_immediately = true to change it now)\n"
                     "multi_az = false",
        "cdk": "multiAz: false",
    }


RULE = Rule(
    id=RULE_ID,
    title="Turn off Multi-AZ on non-production databases",
    why=(
        "A Multi-AZ DB instance runs a synchronous standby in a second Availability Zone and "
        "RDS bills it as a second instance, storage included. Production needs it; a "
        "staging, test or development database rarely does: a Single-AZ instance costs "
        "half and recovers from a failure in minutes. "
        "Databases are judged by their environment tag first, then by name; a database "
        "tagged production, or with neither tag nor matching name, is never flagged."
    ),
    resource_type="rds-instance",
    bill_services=('Amazon Relational Database Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
