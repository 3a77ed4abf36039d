"""RDS: DB instances and reserved DB instances."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    paginated_rows,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, same_name, schema

SERVICE = "rds"


def collect_instances(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    return paginated_rows(target, errors, SERVICE, "DescribeDBInstances", "DBInstances",
                          lambda db: _instance_row(target, db))


def _instance_row(target: Target, db: dict[str, Any]) -> dict[str, Any]:
    pending = db.get("PendingModifiedValues") or {}
    return {
        "account": target.account,
        "region": target.region,
        "db_instance_id": db["DBInstanceIdentifier"],
        "arn": db.get("DBInstanceArn", db["DBInstanceIdentifier"]),
        "instance_class": db.get("DBInstanceClass", ""),
        "engine": db.get("Engine") or "",
        "engine_version": db.get("EngineVersion") or "",
        "multi_az": bool(db.get("MultiAZ", False)),
        "status": db.get("DBInstanceStatus") or "",
        "read_replica_source": db.get("ReadReplicaSourceDBInstanceIdentifier") or "",
        # Optional in the API reference and absent from some recorded responses (an old
        # instance, a DescribeDBInstances answer without storage fields): "" / 0 = unknown.
        "storage_type": db.get("StorageType") or "",
        "allocated_storage_gb": int(db.get("AllocatedStorage", 0) or 0),
        "created_at": str(db.get("InstanceCreateTime", "")),
        "tags": to_json(tags_to_dict(db.get("TagList"))),
        # Replicas this instance is the source of (ARNs for ones in other regions): a source
        # cannot be stopped (USER_StopInstance.html, "Limitations").
        "read_replica_ids": to_json(list(db.get("ReadReplicaDBInstanceIdentifiers") or [])),
        "license_model": db.get("LicenseModel") or "",
        # A change already waiting for the maintenance window must not be recommended again.
        "pending_instance_class": pending.get("DBInstanceClass") or "",
        "pending_storage_type": pending.get("StorageType") or "",
    }


def collect_reservations(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeReservedDBInstances"):
        paginator = target.client("rds").get_paginator("describe_reserved_db_instances")
        for page in paginator.paginate():
            for reservation in page.get("ReservedDBInstances", []):
                rows.append({
                    "account": target.account,
                    "region": target.region,
                    "reservation_id": reservation.get("ReservedDBInstanceId", ""),
                    "instance_class": reservation.get("DBInstanceClass", ""),
                    "multi_az": bool(reservation.get("MultiAZ", False)),
                    "product_description": reservation.get("ProductDescription", ""),
                    "state": reservation.get("State", ""),
                    "instance_count": int(reservation.get("DBInstanceCount", 1) or 1),
                    "start_time": str(reservation.get("StartTime", "")),
                    "duration_seconds": int(reservation.get("Duration", 0) or 0),
                    "offering_type": reservation.get("OfferingType", ""),
                })
    return rows


SPECS = (
    CollectorSpec(
        table="rds_instances", label="rds",
        schema=schema(
            "account", "region", "db_instance_id", "arn", "instance_class", "engine",
            "engine_version", "multi_az", "status", "read_replica_source", "storage_type",
            "allocated_storage_gb", "created_at", "tags", "read_replica_ids", "license_model",
            "pending_instance_class", "pending_storage_type",
            multi_az=pa.bool_(), allocated_storage_gb=pa.int64()),
        operations=same_name("rds:DescribeDBInstances"),  # tags come in its TagList
        collect=lambda target, errors, _run: collect_instances(target, errors),
        id_column="arn",
        inventory=Inventory("rds-instance", "RDS instances", "rds:DescribeDBInstances"),
        metric_resources=(MetricResource(
            "rds-instance", lambda _metric, row: (
                (("DBInstanceIdentifier", row["db_instance_id"]),), row["db_instance_id"])),),
    ),
    CollectorSpec(
        table="rds_reservations", label="rds reservations",
        schema=schema(
            "account", "region", "reservation_id", "instance_class", "multi_az",
            "product_description", "state", "instance_count", "start_time",
            "duration_seconds", "offering_type",
            multi_az=pa.bool_(), instance_count=pa.int64(), duration_seconds=pa.int64()),
        operations=same_name("rds:DescribeReservedDBInstances"),
        collect=lambda target, errors, _run: collect_reservations(target, errors),
    ),
)
