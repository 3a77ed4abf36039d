"""A typed view of the rds_instances table, shared by the RDS rules."""

from __future__ import annotations

from dataclasses import dataclass

from rightsizer.findings import Resource
from rightsizer.snapshot import Snapshot, as_int, decode_json_cell, records

# RDS reservations (except license-included engines) are size-flexible within a family,
# counted in normalized units; Multi-AZ counts double. Source:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithReservedDBInstances.html
NORMALIZED_UNITS = {
    "micro": 0.5, "small": 1, "medium": 2, "large": 4, "xlarge": 8, "2xlarge": 16,
    "4xlarge": 32, "8xlarge": 64, "12xlarge": 96, "16xlarge": 128, "24xlarge": 192,
}


@dataclass(frozen=True)
class RdsInstance:
    """One row of rds_instances, typed; shared by the RDS sizing, idle and storage rules."""

    resource: Resource
    instance_class: str
    engine: str
    multi_az: bool
    status: str
    replica_of: str
    storage_type: str
    allocated_storage_gb: int

    @property
    def family(self) -> str:
        return self.instance_class.rsplit(".", 1)[0]

    @property
    def units(self) -> float:
        """Normalized units a size-flexible reservation counts (Multi-AZ counts double)."""
        size = self.instance_class.rsplit(".", 1)[-1]
        return NORMALIZED_UNITS.get(size, 0) * (2 if self.multi_az else 1)

    @property
    def label(self) -> str:
        return f"{self.instance_class}{' Multi-AZ' if self.multi_az else ''}"


def rds_instances(snapshot: Snapshot) -> list[RdsInstance]:
    # five rules walk the databases: the rows are decoded once
    return snapshot.derived("rds-instances", _decode_instances)


def _decode_instances(snapshot: Snapshot) -> list[RdsInstance]:
    return [
        RdsInstance(
            resource=Resource("rds-instance", str(row["arn"]), str(row["db_instance_id"]),
                              str(row["account"]), str(row["region"]),
                              decode_json_cell(row.get("tags"), {})),
            instance_class=str(row["instance_class"]).lower(),
            engine=str(row["engine"]),
            multi_az=bool(row["multi_az"]),
            status=str(row["status"]),
            replica_of=str(row.get("read_replica_source") or ""),
            storage_type=str(row.get("storage_type") or "").lower(),
            allocated_storage_gb=as_int(row.get("allocated_storage_gb")),
        )
        for row in records(snapshot.table("rds_instances"))
    ]


def no_price(inst: RdsInstance, instance_class: str | None = None) -> str:
    return (f"no price for {instance_class or inst.instance_class} ({inst.engine}"
            f"{', Multi-AZ' if inst.multi_az else ''}) in {inst.resource.region}")
