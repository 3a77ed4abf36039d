"""The RDS and ElastiCache collectors and rules meet the shapes AWS really sends.

The answers are hand-built from the API reference
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html,
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeReservedDBInstances.html,
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeCacheClusters.html)
after the awkward cases of recorded responses: Cloud Custodian's placebo files (named at each
instance) and the AWS CLI examples for describe-reserved-db-instances and
describe-reserved-cache-nodes (a payment-pending reservation). botocore's Stubber checks every
answer against the service model, so a field of the wrong name or type fails the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from rightsizer.collect.collectors import elasticache, rds
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.elasticache import collect_cache_reservations
from rightsizer.rules import (
    elasticache_reserved_node,
    rds_idle,
    rds_reserved_instance,
    rds_rightsize,
    rds_storage_gp3,
)
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot
from tests.snapshot_factory import ACCOUNT, SnapshotBuilder, flat

REGION = "us-east-1"  # RDS instance and storage prices are both tabled here
CREATED = datetime(2017, 4, 5, 20, 28, 25, tzinfo=UTC)


def arn(name: str) -> str:
    return f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}"


DB_INSTANCES: list[dict[str, Any]] = [
    # An old PostgreSQL instance on 5 GiB gp2 (placebo test_rds_stop/rds.DescribeDBInstances_1)
    {"DBInstanceIdentifier": "rds-test-instance-1", "DBInstanceClass": "db.t2.micro",
     "Engine": "postgres", "EngineVersion": "9.6.1", "DBInstanceStatus": "available",
     "MultiAZ": False, "StorageType": "gp2", "AllocatedStorage": 5,
     "LicenseModel": "postgresql-license", "InstanceCreateTime": CREATED,
     "ReadReplicaDBInstanceIdentifiers": [], "PendingModifiedValues": {},
     "DBInstanceArn": arn("rds-test-instance-1")},
    # No StorageType, AllocatedStorage, EngineVersion or replica list at all
    # (placebo test_rdsparamgroup_unused/rds.DescribeDBInstances_1)
    {"DBInstanceIdentifier": "mydb", "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
     "DBInstanceStatus": "available", "MasterUsername": "admin",
     "DBInstanceArn": arn("mydb")},
    # A failed Multi-AZ source with a read replica (placebo test_rds_retention)
    {"DBInstanceIdentifier": "sbbdev", "DBInstanceClass": "db.m3.medium", "Engine": "mysql",
     "EngineVersion": "5.6.23", "DBInstanceStatus": "failed", "MultiAZ": True,
     "StorageType": "io1", "Iops": 1000, "AllocatedStorage": 100,
     "LicenseModel": "general-public-license", "ReadReplicaDBInstanceIdentifiers":
     ["sbbdevslave"], "PendingModifiedValues": {}, "DBInstanceArn": arn("sbbdev")},
    {"DBInstanceIdentifier": "sbbdevslave", "DBInstanceClass": "db.m3.medium",
     "Engine": "mysql", "EngineVersion": "5.6.23", "DBInstanceStatus": "available",
     "MultiAZ": False, "StorageType": "io1", "Iops": 1000, "AllocatedStorage": 100,
     "ReadReplicaSourceDBInstanceIdentifier": "sbbdev", "ReadReplicaDBInstanceIdentifiers": [],
     "PendingModifiedValues": {}, "DBInstanceArn": arn("sbbdevslave")},
    # Backing up: a running database (placebo test_rds_engine_filter)
    {"DBInstanceIdentifier": "database-1", "DBInstanceClass": "db.t3.micro",
     "Engine": "postgres", "EngineVersion": "12.5", "DBInstanceStatus": "backing-up",
     "MultiAZ": False, "StorageType": "gp2", "AllocatedStorage": 20,
     "ReadReplicaDBInstanceIdentifiers": [], "PendingModifiedValues": {},
     "DBInstanceArn": arn("database-1")},
    # The reference stack: db.t3.small Multi-AZ primary + db.t3.micro replica for analytics
    {"DBInstanceIdentifier": "edufly-db", "DBInstanceClass": "db.t3.small",
     "Engine": "postgres", "EngineVersion": "16.3", "DBInstanceStatus": "available",
     "MultiAZ": True, "StorageType": "gp2", "AllocatedStorage": 20,
     "ReadReplicaDBInstanceIdentifiers": ["edufly-db-replica"],
     "PendingModifiedValues": {"DBInstanceClass": "db.t3.micro"},
     "DBInstanceArn": arn("edufly-db")},
    {"DBInstanceIdentifier": "edufly-db-replica", "DBInstanceClass": "db.t3.micro",
     "Engine": "postgres", "EngineVersion": "16.3", "DBInstanceStatus": "available",
     "MultiAZ": False, "StorageType": "gp2", "AllocatedStorage": 20,
     "ReadReplicaSourceDBInstanceIdentifier": "edufly-db",
     "ReadReplicaDBInstanceIdentifiers": [], "PendingModifiedValues": {},
     "DBInstanceArn": arn("edufly-db-replica")},
]

RESERVED_DB_INSTANCES: list[dict[str, Any]] = [
    # AWS CLI example describe-reserved-db-instances: a purchase still payment-pending
    {"ReservedDBInstanceId": "myreservedinstance",
     "ReservedDBInstancesOfferingId": "12ab34cd-59af-4b2c-a660-1abcdef23456",
     "DBInstanceClass": "db.t3.small", "StartTime": datetime(2026, 10, 1, tzinfo=UTC),
     "Duration": 31536000, "FixedPrice": 0.0, "UsagePrice": 0.0, "CurrencyCode": "USD",
     "DBInstanceCount": 1, "ProductDescription": "postgresql", "OfferingType": "No Upfront",
     "MultiAZ": True, "State": "payment-pending",
     "RecurringCharges": [{"RecurringChargeAmount": 0.05,
                           "RecurringChargeFrequency": "Hourly"}],
     "ReservedDBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:ri:myreservedinstance",
     "LeaseId": "a1b2c3d4-6b69-4a59-be89-5e11aa446666"},
    # placebo test_reserved_rds_instance_query: an active mysql reservation (another engine)
    {"ReservedDBInstanceId": "ri-2019-05-06-14-19-06-332", "DBInstanceClass": "db.t2.micro",
     "Duration": 31536000, "DBInstanceCount": 1, "ProductDescription": "mysql",
     "OfferingType": "All Upfront", "MultiAZ": False, "State": "active"},
    # a term that ended
    {"ReservedDBInstanceId": "ri-old", "DBInstanceClass": "db.t3.micro", "Duration": 31536000,
     "DBInstanceCount": 4, "ProductDescription": "postgresql", "OfferingType": "No Upfront",
     "MultiAZ": False, "State": "retired"},
]


class _Clients:
    def __init__(self, clients: dict[str, Any]) -> None:
        self._clients = clients

    def client(self, service: str, region: str) -> Any:
        return self._clients[service]


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION, aws_access_key_id="x",
                        aws_secret_access_key="x")


@pytest.fixture
def collected() -> dict[str, list[dict[str, Any]]]:
    """The RDS and ElastiCache inventory, read by the real collectors from stubbed answers."""
    rds_client, cache_client = _client("rds"), _client("elasticache")
    target = Target(ACCOUNT, REGION, _Clients({"rds": rds_client,  # type: ignore[arg-type]
                                                "elasticache": cache_client}))
    errors = ErrorLog()
    with Stubber(rds_client) as rds_stub, Stubber(cache_client) as cache_stub:
        rds_stub.add_response("describe_db_instances", {"DBInstances": DB_INSTANCES})
        rds_stub.add_response("describe_reserved_db_instances",
                              {"ReservedDBInstances": RESERVED_DB_INSTANCES})
        cache_stub.add_response("describe_cache_clusters", {"CacheClusters": CACHE_CLUSTERS})
        cache_stub.add_response("describe_reserved_cache_nodes",
                                {"ReservedCacheNodes": RESERVED_CACHE_NODES})
        tables = {
            "rds_instances": rds.collect_instances(target, errors),
            "rds_reservations": rds.collect_reservations(target, errors),
            "elasticache_clusters": elasticache.collect_clusters(target, errors),
            "elasticache_reservations": collect_cache_reservations(target, errors),
        }
        rds_stub.assert_no_pending_responses()
        cache_stub.assert_no_pending_responses()
    assert errors.rows == []
    return tables


# placebo test_elasticache_cluster_simple (a replication group's node) and the reference
# stack's single cache.t3.micro
CACHE_CLUSTERS: list[dict[str, Any]] = [
    {"CacheClusterId": "myec-001", "Engine": "redis", "EngineVersion": "3.2.4",
     "CacheNodeType": "cache.r3.large", "NumCacheNodes": 1,
     "CacheClusterStatus": "available", "ReplicationGroupId": "myec",
     "CacheClusterCreateTime": CREATED, "PendingModifiedValues": {}},
    {"CacheClusterId": "edufly-cache", "Engine": "redis", "EngineVersion": "7.1",
     "CacheNodeType": "cache.t3.micro", "NumCacheNodes": 1,
     "CacheClusterStatus": "snapshotting",
     "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:edufly-cache"},
]
# AWS CLI example describe-reserved-cache-nodes: payment-pending, a larger size of the family
RESERVED_CACHE_NODES: list[dict[str, Any]] = [
    {"ReservedCacheNodeId": "mynode",
     "ReservedCacheNodesOfferingId": "xxxxxxxxx-xxxxx-xxxxx-xxxx-xxxxxxxx71",
     "CacheNodeType": "cache.t3.small", "StartTime": datetime(2019, 12, 6, tzinfo=UTC),
     "Duration": 31536000, "FixedPrice": 0.0, "UsagePrice": 0.0, "CacheNodeCount": 1,
     "ProductDescription": "redis", "OfferingType": "No Upfront", "State": "payment-pending",
     "RecurringCharges": [{"RecurringChargeAmount": 0.023,
                           "RecurringChargeFrequency": "Hourly"}],
     "ReservationARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:reserved-instance:mynode"},
]


def snapshot_of(collected: dict[str, list[dict[str, Any]]]) -> Snapshot:
    """The collected tables plus a fortnight of quiet metrics for every database and cache."""
    snap = SnapshotBuilder()
    for db in DB_INSTANCES:
        name = db["DBInstanceIdentifier"]
        snap.rds_metric(name, "CPUUtilization", "Maximum", flat(10), region=REGION)
        snap.rds_metric(name, "FreeableMemory", "Minimum", flat(0.9 * 1024**3), region=REGION)
        snap.rds_metric(name, "DatabaseConnections", "Maximum", flat(3), region=REGION)
    for cluster in CACHE_CLUSTERS:
        snap.elasticache_cpu(cluster["CacheClusterId"], region=REGION)
    snapshot = snap.build()
    for name, rows in collected.items():
        snapshot.tables[name] = pd.DataFrame(rows, columns=TABLE_COLUMNS[name])
    return snapshot


def by_name(items: list[Any]) -> dict[str, Any]:
    return {item.name: item for item in items}


def test_collector_keeps_missing_optional_fields_as_unknown(collected):
    """StorageType, AllocatedStorage and the replica list are optional members of DBInstance
    (API reference); mydb's recorded answer has none of them."""
    rows = {row["db_instance_id"]: row for row in collected["rds_instances"]}
    assert rows["mydb"]["storage_type"] == "" and rows["mydb"]["allocated_storage_gb"] == 0
    assert json.loads(rows["mydb"]["read_replica_ids"]) == []
    assert json.loads(rows["sbbdev"]["read_replica_ids"]) == ["sbbdevslave"]
    assert rows["sbbdevslave"]["read_replica_source"] == "sbbdev"
    assert rows["edufly-db"]["pending_instance_class"] == "db.t3.micro"
    states = {row["reservation_id"]: row["state"] for row in collected["rds_reservations"]}
    assert states["myreservedinstance"] == "payment-pending"


def test_payment_pending_reservation_covers_the_multi_az_primary(collected):
    """The payment-pending db.t3.small Multi-AZ postgresql reservation covers edufly-db;
    the retired one covers nothing, the mysql one another engine: the replica gets the finding.
    The failed Multi-AZ source is a skipped row naming its status."""
    result = rds_reserved_instance.evaluate(snapshot_of(collected),
                                            rds_reserved_instance.Settings())
    findings, skipped = by_name(result.findings), by_name(result.skipped)
    assert "edufly-db" not in findings and "edufly-db" not in skipped
    assert findings["edufly-db-replica"].evidence["covered_units"] == 0
    assert "read replica of edufly-db" in findings["edufly-db-replica"].reason
    assert findings["database-1"].current == {"instance_class": "db.t3.micro",
                                              "multi_az": False}  # backing-up: judged
    assert skipped["sbbdev"].detail.startswith("status is failed")


def test_storage_rule_on_recorded_shapes(collected):
    """5 GiB gp2 is under gp3's 20 GiB minimum (CHAP_Storage.html); no StorageType is unknown;
    io1 is not this rule's change; 20 GiB gp2 databases (backing-up included) get gp3."""
    result = rds_storage_gp3.evaluate(snapshot_of(collected), rds_storage_gp3.Settings())
    findings, skipped = by_name(result.findings), by_name(result.skipped)
    assert "under gp3's 20 GiB minimum" in skipped["rds-test-instance-1"].detail
    assert skipped["mydb"].reason == "insufficient-data"
    assert "sbbdev" not in skipped and "sbbdevslave" not in skipped  # io1
    assert set(findings) == {"database-1", "edufly-db", "edufly-db-replica"}
    assert findings["edufly-db"].evidence["multi_az"] is True


def test_rightsize_on_recorded_shapes(collected):
    """db.t2 and db.m3 are not tabled types; the smallest db.t3 has nothing below it; the
    primary's pending change to db.t3.micro is not recommended again."""
    result = rds_rightsize.evaluate(snapshot_of(collected), rds_rightsize.Settings())
    skipped = by_name(result.skipped)
    assert result.findings == []
    assert "class sizes not tabled" in skipped["rds-test-instance-1"].detail
    assert "class sizes not tabled" in skipped["sbbdevslave"].detail
    assert "already pending" in skipped["edufly-db"].detail
    assert "mydb" not in skipped and "database-1" not in skipped


def test_idle_rule_on_recorded_shapes(collected):
    """Every database had connections; the failed one is a skipped row, never a crash."""
    result = rds_idle.evaluate(snapshot_of(collected), rds_idle.Settings())
    assert result.findings == []
    assert [row.name for row in result.skipped] == ["sbbdev"]


def test_payment_pending_reserved_node_covers_a_smaller_node_of_its_family(collected):
    """The payment-pending cache.t3.small (AWS CLI example) covers the snapshotting (running)
    cache.t3.micro by size flexibility; cache.r3.large has no price and is skipped."""
    result = elasticache_reserved_node.evaluate(snapshot_of(collected),
                                                elasticache_reserved_node.Settings())
    assert result.findings == []
    [row] = result.skipped
    assert row.name == "myec-001" and row.detail.startswith("no price for cache.r3.large")
