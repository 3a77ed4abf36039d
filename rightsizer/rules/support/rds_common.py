"""A typed view of the rds_instances table, shared by the RDS rules; and the one place that says
which DB instance statuses and reservation states count as running and as held."""

from __future__ import annotations

from dataclasses import dataclass

from rightsizer.rules.findings import Resource
from rightsizer.rules.support.status import not_running_detail
from rightsizer.snapshot.store import Snapshot, as_int, decode_json_cell, records

# RDS reservations are size-flexible within an instance class type for MariaDB, MySQL,
# PostgreSQL and Oracle BYOL (not for license-included engines), counted in normalized units
# per hour; a Multi-AZ DB instance counts double. Source (table "normalized units per hour"):
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithReservedDBInstances.html
NORMALIZED_UNITS = {
    "micro": 0.5, "small": 1, "medium": 2, "large": 4, "xlarge": 8, "2xlarge": 16,
    "4xlarge": 32, "6xlarge": 48, "8xlarge": 64, "10xlarge": 80, "12xlarge": 96,
    "16xlarge": 128, "24xlarge": 192, "32xlarge": 256,
}

# --- DB instance status ---------------------------------------------------------------------
# Every status of the table in "Viewing DB instance status",
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status
# classified once for all RDS rules. Running: the database is up and billed for instance hours
# while RDS backs it up, changes a setting or optimizes storage, so every rule judges it.
RUNNING_DB_STATUSES = frozenset({
    "available", "backing-up", "configuring-enhanced-monitoring",
    "configuring-iam-database-auth", "configuring-log-exports", "converting-to-vpc",
    "maintenance", "modifying", "moving-to-vpc", "rebooting", "renaming",
    "resetting-master-credentials", "storage-optimization", "upgrading",
})
# Not running, with why (the doc's description, shortened): no rule judges these.
NOT_RUNNING_DB_STATUSES: dict[str, str] = {
    "stopped": "instance hours are not billed while stopped; storage is",
    "stopping": "being stopped",
    "starting": "starting after a stop",
    "creating": "still being created",
    "deleting": "being deleted",
    "failed": "failed: RDS cannot recover it (point-in-time restore needed)",
    "inaccessible-encryption-credentials": "its KMS key cannot be accessed",
    "inaccessible-encryption-credentials-recoverable": "its KMS key cannot be accessed "
    "(recoverable: enable the key and start the instance)",
    "incompatible-credentials": "its credentials are incompatible",
    "incompatible-network": "its VPC prevents a recovery action",
    "incompatible-option-group": "an option group change could not be applied",
    "incompatible-parameters": "its parameter group is incompatible with the instance",
    "incompatible-restore": "a point-in-time restore is impossible",
    "insufficient-capacity": "RDS lacks the capacity to create it",
    "restore-error": "a restore failed",
    "storage-full": "its storage is full",
}
DB_STATUS_SOURCE = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
                    "accessing-monitoring.html#Overview.DBInstance.Status")


def not_running(status: str) -> str | None:
    """None when an instance in this DBInstanceStatus is a running database; otherwise the
    skipped row's detail, naming the status. A status this table does not know is never
    guessed at: it is reported as unknown."""
    return not_running_detail(status.strip().lower(), RUNNING_DB_STATUSES,
                              NOT_RUNNING_DB_STATUSES, "DB instance status")


# --- reservation state ----------------------------------------------------------------------
# The API reference lists no values for ReservedDBInstance.State
# (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ReservedDBInstance.html) nor
# for ReservedCacheNode.State. "payment-pending" is what a purchase returns (AWS CLI examples
# describe-reserved-db-instances / purchase-reserved-cache-nodes-offering), "active" a running
# reservation, "retired" one whose term ended, "payment-failed" a purchase that did not go
# through (the values EC2 and Redshift document for the same lifecycle). A pending purchase is
# already bought: it counts as coverage, or the same reservation would be recommended twice.
HELD_RESERVATION_STATES = frozenset({"active", "payment-pending"})
UNHELD_RESERVATION_STATES = frozenset({"retired", "payment-failed"})


def reservation_held(state: str) -> bool | None:
    """True when a reservation in this state covers usage (or will), False when it never will,
    None for a state this code does not know (the caller must not guess)."""
    state = state.strip().lower()
    if state in HELD_RESERVATION_STATES:
        return True
    if state in UNHELD_RESERVATION_STATES:
        return False
    return None


# --- which DB instance classes exist for which engine ---------------------------------------
# Sizes of each class type, small -> large, as the table "Supported DB engines for DB instance
# classes" (CLASS_SUPPORT_SOURCE) lists them: there is no db.m6g.medium and no db.r6g.medium,
# those types start at large.
DB_CLASS_SIZES: dict[str, tuple[str, ...]] = {
    "db.t3": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "db.t4g": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "db.m5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
              "24xlarge"),
    "db.m6g": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "db.r5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
              "24xlarge"),
    "db.r6g": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
}
# Engines for which that table gives every size of those types (versions permitting: the
# version floor is the same for every size of a type, so an instance already running on a type
# can move to any size of it). Oracle and SQL Server support varies by edition and version
# (db.t3.micro is "No" for SQL Server; Graviton types are "No" for both): not tabled here.
CLASS_TABLE_ENGINES = frozenset({"postgres", "mysql", "mariadb"})
CLASS_SUPPORT_SOURCE = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
                        "Concepts.DBInstanceClass.Support.html")


def classes_for_engine(engine: str, family: str) -> list[str] | None:
    """The DB instance classes of a class type that exist for an engine, small -> large; None
    when this engine or type is not tabled (never guess that a class exists)."""
    if engine.strip().lower() not in CLASS_TABLE_ENGINES:
        return None
    sizes = DB_CLASS_SIZES.get(family.strip().lower())
    return None if sizes is None else [f"{family}.{size}" for size in sizes]


def size_of(instance_class: str) -> str:
    return instance_class.rsplit(".", 1)[-1]


def family_of(instance_class: str) -> str:
    return instance_class.rsplit(".", 1)[0]


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
    engine_version: str = ""
    license_model: str = ""
    replica_ids: tuple[str, ...] = ()
    pending_instance_class: str = ""
    pending_storage_type: str = ""

    @property
    def family(self) -> str:
        return family_of(self.instance_class)

    @property
    def units(self) -> float:
        """Normalized units a size-flexible reservation counts (Multi-AZ counts double)."""
        return NORMALIZED_UNITS.get(size_of(self.instance_class), 0) * (2 if self.multi_az
                                                                         else 1)

    @property
    def label(self) -> str:
        return f"{self.instance_class}{' Multi-AZ' if self.multi_az else ''}"

    @property
    def not_running(self) -> str | None:
        return not_running(self.status)

    @property
    def class_change_problem(self) -> str | None:
        """Why no other class can be proposed now (a rule that resizes skips with it)."""
        stopped = self.not_running
        if stopped:
            return f"{stopped}: only running instances are sized"
        if self.pending_instance_class:
            return (f"a change to {self.pending_instance_class} is already pending (it applies "
                    "in the next maintenance window)")
        return None

    def names(self) -> tuple[str, str]:
        """How another instance refers to this one: its identifier or (across regions) ARN."""
        return (self.resource.name, self.resource.resource_id)


def rds_instances(snapshot: Snapshot) -> list[RdsInstance]:
    # five rules walk the databases: the rows are decoded once
    return snapshot.derived("rds-instances", _decode_instances)


def _text(value: object) -> str:
    """A cell as text; a missing one (None, NaN from a table without the column) is ''."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _decode_instances(snapshot: Snapshot) -> list[RdsInstance]:
    return [
        RdsInstance(
            resource=Resource("rds-instance", str(row["arn"]), str(row["db_instance_id"]),
                              str(row["account"]), str(row["region"]),
                              decode_json_cell(row.get("tags"), {})),
            instance_class=str(row["instance_class"]).lower(),
            engine=_text(row.get("engine")).lower(),
            multi_az=bool(row["multi_az"]),
            status=_text(row.get("status")).strip().lower(),
            replica_of=_text(row.get("read_replica_source")),
            storage_type=_text(row.get("storage_type")).lower(),
            allocated_storage_gb=as_int(row.get("allocated_storage_gb")),
            engine_version=_text(row.get("engine_version")),
            license_model=_text(row.get("license_model")).lower(),
            replica_ids=tuple(str(name) for name in
                              decode_json_cell(row.get("read_replica_ids"), [])),
            pending_instance_class=_text(row.get("pending_instance_class")).lower(),
            pending_storage_type=_text(row.get("pending_storage_type")).lower(),
        )
        for row in records(snapshot.table("rds_instances"))
    ]


def instances_with_replicas(instances: list[RdsInstance]) -> set[str]:
    """Names and ARNs of every instance that is a read replica's source: the replica's
    ReadReplicaSourceDBInstanceIdentifier, or the source's own ReadReplicaDBInstanceIdentifiers
    (which also lists replicas in other regions, not in this snapshot's region)."""
    sources = {inst.replica_of for inst in instances if inst.replica_of}
    for inst in instances:
        if inst.replica_ids:
            sources.update(inst.names())
    return sources


def no_price(inst: RdsInstance, instance_class: str | None = None) -> str:
    return (f"no price for {instance_class or inst.instance_class} ({inst.engine}"
            f"{', Multi-AZ' if inst.multi_az else ''}) in {inst.resource.region}")
