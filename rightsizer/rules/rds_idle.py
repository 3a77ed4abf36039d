"""rds-idle: databases nobody connected to during the whole window."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.findings import Finding, finding_for, skipped_for
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.rds_common import RdsInstance, no_price, rds_instances
from rightsizer.snapshot import Snapshot

RULE_ID = "rds-idle"
RDS = "AWS/RDS"
# Stopping: the instance restarts by itself after 7 days, and read replicas (or instances
# that have replicas) cannot be stopped. Source:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html
AUTO_RESTART_DAYS = 7


class Settings(RuleSettings):
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window that must have DatabaseConnections datapoints: an "
        "instance is called idle only on evidence, never on missing data.",
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    expected = snapshot.expected_datapoints
    replica_sources = {inst.replica_of for inst in rds_instances(snapshot) if inst.replica_of}
    for inst in rds_instances(snapshot):
        resource = inst.resource
        if inst.status == "stopped":
            continue  # no instance hours billed; nothing more to stop
        if inst.status != "available":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"status is {inst.status}: judge idleness only on a running instance"))
            continue
        connections = snapshot.one_series(resource.account, resource.region, RDS,
                                          "DatabaseConnections", resource.name, "Maximum")
        seen = connections.coverage(expected)
        if seen < settings.min_coverage:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                f"DatabaseConnections datapoints cover {seen:.0%} of the window; needs "
                f"{settings.min_coverage:.0%} to call it idle"))
            continue
        if connections.maximum > 0:
            continue  # somebody connected: in use
        hourly = pricing.rds_hourly_usd(resource.region, inst.instance_class,
                                        multi_az=inst.multi_az, engine=inst.engine)
        if hourly is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              no_price(inst)))
            continue
        has_replicas = any(source in replica_sources
                           for source in (resource.name, resource.resource_id))
        result.findings.append(_finding(snapshot, inst, hourly, seen, connections.rows,
                                        has_replicas))
    return result


def _finding(snapshot: Snapshot, inst: RdsInstance, hourly: pricing.Price, seen: float,
             datapoints: int, has_replicas: bool) -> Finding:
    resource = inst.resource
    hours = pricing.HOURS_PER_MONTH
    instance_monthly = hourly.usd * hours
    storage = None
    if inst.storage_type and inst.allocated_storage_gb:
        storage = pricing.rds_storage_gb_month_usd(resource.region, inst.storage_type,
                                                   multi_az=inst.multi_az)
    storage_monthly = storage.usd * inst.allocated_storage_gb if storage else 0.0
    days = snapshot.manifest["window"]["days"]
    if inst.replica_of:
        action = "delete the read replica"
        advice = "read replicas cannot be stopped; delete it (no snapshot needed)"
    elif has_replicas:
        action = "snapshot and delete"
        advice = ("it has read replicas, so it cannot be stopped: check them, then take a "
                  "final snapshot and delete")
    else:
        action = "stop, or snapshot and delete"
        advice = (f"stop it (it restarts by itself after {AUTO_RESTART_DAYS} days) or take a "
                  "final snapshot and delete it")
    storage_text = (f" + ${storage_monthly:,.2f} storage" if storage else
                    " (storage not priced for this region, not counted)")
    reason = (
        f"{inst.label}{' read replica' if inst.replica_of else ''} had 0 connections at "
        f"every hour of {days} days ({seen:.0%} of the window reported); {advice}: "
        f"${instance_monthly:,.2f}/month instance{storage_text}"
    )
    evidence: dict[str, Any] = {
        "connections_max": 0,
        "coverage": round(seen, 3),
        "datapoints": datapoints,
        "hourly_on_demand_usd": hourly.usd,
        "hours_per_month": hours,
        "instance_monthly_usd": round(instance_monthly, 2),
        "storage_type": inst.storage_type or None,
        "allocated_storage_gb": inst.allocated_storage_gb,
        "storage_gb_month_usd": storage.usd if storage else None,
        "storage_monthly_usd": round(storage_monthly, 2) if storage else None,
        "read_replica_of": inst.replica_of or None,
        "has_read_replicas": has_replicas,
        "note": "stopping saves the instance hours only (storage stays billed); deleting "
        "saves both, while a final snapshot is billed as backup storage",
        "price_source": hourly.source,
    }
    return finding_for(
        resource, RULE_ID,
        current={"instance_class": inst.instance_class, "multi_az": inst.multi_az,
                 "connections_max": 0},
        recommended={"action": action},
        monthly_cost_usd=instance_monthly + storage_monthly,
        monthly_savings_usd=instance_monthly + storage_monthly,
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    name, region = finding.name, finding.region
    delete = (f"aws rds delete-db-instance --region {region} --db-instance-identifier {name} "
              f"--final-db-snapshot-identifier {name}-final")
    if finding.evidence.get("read_replica_of"):
        delete = (f"aws rds delete-db-instance --region {region} --db-instance-identifier "
                  f"{name} --skip-final-snapshot")
        cli = f"# a read replica cannot be stopped\n{delete}"
    elif finding.evidence.get("has_read_replicas"):
        cli = f"# delete or promote its read replicas first\n{delete}"
    else:
        cli = (f"aws rds stop-db-instance --region {region} --db-instance-identifier {name}\n"
               f"# or, to stop paying for storage too:\n{delete}")
    return {
        "cli": cli,
        "iac": (
            "# Terraform: remove the aws_db_instance resource (keep final_snapshot_identifier "
            "set and skip_final_snapshot = false so a snapshot is taken), then apply.\n"
            "# Stopping is an operation, not a setting: use the CLI above."
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Stop or remove databases nobody connects to",
    why=(
        "A database with no connection at any hour of the lookback window is almost always "
        "a forgotten staging copy, a migration leftover or a replica nothing reads from, and "
        "it bills its full instance and storage price every month. Stopping it saves the "
        "instance hours at once; a final snapshot and delete saves the storage too."
    ),
    resource_type="rds-instance",
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(MetricNeed("rds-instance", RDS, "DatabaseConnections", ("Maximum",)),),
)
