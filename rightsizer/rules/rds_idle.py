"""rds-idle: databases nobody connected to during the whole window."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, finding_for, skipped_for
from rightsizer.rules.support.rds_common import (
    RdsInstance,
    instances_with_replicas,
    no_price,
    rds_instances,
)
from rightsizer.snapshot.store import Snapshot

RULE_ID = "rds-idle"
RDS = "AWS/RDS"
# Stopping: the instance restarts by itself after 7 days; read replicas, instances that have
# replicas and Multi-AZ SQL Server instances cannot be stopped ("Limitations"). Source:
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
    instances = rds_instances(snapshot)
    replica_sources = instances_with_replicas(instances)
    for inst in instances:
        resource = inst.resource
        stopped = inst.not_running
        if stopped:
            if inst.status == "stopped":
                stopped += (f"; nothing more to stop (AWS starts it again by itself after "
                            f"{AUTO_RESTART_DAYS} days)")
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"{stopped}: idleness is judged only on a running instance"))
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
        has_replicas = any(name in replica_sources for name in inst.names())
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
    sqlserver_multi_az = inst.engine.startswith("sqlserver") and inst.multi_az
    if inst.replica_of:
        action = "delete the read replica"
        advice = "read replicas cannot be stopped; delete it (no snapshot needed)"
    elif has_replicas:
        action = "snapshot and delete"
        advice = ("it has read replicas, so it cannot be stopped: check them, then take a "
                  "final snapshot and delete")
    elif sqlserver_multi_az:
        action = "snapshot and delete"
        advice = ("a Multi-AZ SQL Server instance cannot be stopped: take a final snapshot "
                  "and delete it")
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
        "read_replica_ids": list(inst.replica_ids),
        "can_stop": not (inst.replica_of or has_replicas or sqlserver_multi_az),
        "auto_restart_days": AUTO_RESTART_DAYS,
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
        pricing=pricing.basis(hourly, storage),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    name, region = shlex.quote(finding.name), shlex.quote(finding.region)
    # DB snapshot identifiers: letters, digits and hyphens, starting with a letter - as DB
    # instance identifiers are - so "<identifier>-final" is one.
    # https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html
    snapshot = shlex.quote(f"{finding.name}-final")
    delete_with_snapshot = (f"aws rds delete-db-instance --db-instance-identifier {name} "
                            f"--final-db-snapshot-identifier {snapshot} --region {region}")
    evidence = finding.evidence
    if evidence.get("read_replica_of"):
        # A replica holds no data of its own: deleting it needs no final snapshot.
        cli = ("# A read replica cannot be stopped: delete it (its source keeps the data).\n"
               f"aws rds delete-db-instance --db-instance-identifier {name} "
               f"--skip-final-snapshot --region {region}")
    elif evidence.get("has_read_replicas") or evidence.get("can_stop") is False:
        why = ("it is the source of read replicas" if evidence.get("has_read_replicas") else
               "a Multi-AZ SQL Server instance")
        # Nothing destructive runs when pasted: list the replicas, then delete by hand.
        cli = (f"# It cannot be stopped ({why}). List its replicas, delete or promote them, "
               "then delete it with a final snapshot:\n"
               f"aws rds describe-db-instances --db-instance-identifier {name} "
               "--query 'DBInstances[0].ReadReplicaDBInstanceIdentifiers' --output text "
               f"--region {region}\n"
               f"# {delete_with_snapshot}")
    else:
        days = evidence.get("auto_restart_days", AUTO_RESTART_DAYS)
        cli = (f"# Stops the instance: instance hours stop, storage stays billed. AWS starts "
               f"it again by itself after {days} days; stop it again then, or delete it.\n"
               f"aws rds stop-db-instance --db-instance-identifier {name} --region {region}\n"
               "# To stop paying for storage too, delete it with a final snapshot instead:\n"
               f"# {delete_with_snapshot}")
    return {
        "cli": cli,
        "terraform": (
            "# Stopping is an operation, not a setting (use the CLI). To delete: keep\n"
            "# skip_final_snapshot = false and set final_snapshot_identifier on the\n"
            "# aws_db_instance, apply, then remove the resource and apply again.\n"
            "skip_final_snapshot       = false\n"
            f"final_snapshot_identifier = \"{finding.name}-final\""
        ),
        "cdk": (
            "// rds.DatabaseInstance: snapshot on removal, then remove the construct and "
            "deploy\nremovalPolicy: RemovalPolicy.SNAPSHOT"
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
    bill_services=('Amazon Relational Database Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(MetricNeed("rds-instance", RDS, "DatabaseConnections", ("Maximum",)),),
)
