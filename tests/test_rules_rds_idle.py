"""rds-idle: databases with zero connections over the whole window."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer import pricing
from rightsizer.rules.rds_idle import RULE, Settings, evaluate, how_to_apply
from tests.snapshot_factory import HOURS, REGION, SnapshotBuilder, flat


def connections(snap: SnapshotBuilder, db: str, values: np.ndarray | None = None, *,
                region: str = REGION) -> None:
    snap.rds_metric(db, "DatabaseConnections", "Maximum",
                    flat(0) if values is None else values, region=region)


def hourly(instance_class: str, region: str = REGION, multi_az: bool = False) -> float:
    price = pricing.rds_hourly_usd(region, instance_class, multi_az=multi_az)
    assert price is not None
    return price.usd


def test_database_without_connections_saves_its_full_cost():
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging", instance_class="db.t3.medium")
    connections(snap, "old-staging")
    result = evaluate(snap.build(), Settings())

    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "rds-idle" and finding.resource_type == "rds-instance"
    assert finding.current["connections_max"] == 0
    assert finding.recommended == {"action": "stop, or snapshot and delete"}
    # ap-south-1 has no sourced storage price: instance hours only, and it says so
    assert finding.monthly_savings_usd == pytest.approx(hourly("db.t3.medium") * 730)
    assert finding.evidence["storage_monthly_usd"] is None
    assert "storage not priced" in finding.reason
    assert "restarts by itself after 7 days" in finding.reason


def test_storage_is_added_where_priced():
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging", instance_class="db.t3.medium", multi_az=True,
                      region="us-east-1")
    connections(snap, "old-staging", region="us-east-1")
    [finding] = evaluate(snap.build(), Settings()).findings
    storage = pricing.rds_storage_gb_month_usd("us-east-1", "gp3", multi_az=True)
    assert storage is not None
    expected = hourly("db.t3.medium", "us-east-1", True) * 730 + 100 * storage.usd
    assert finding.monthly_savings_usd == pytest.approx(expected)
    assert finding.evidence["storage_monthly_usd"] == pytest.approx(100 * storage.usd)


def test_a_single_connection_means_in_use():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    values = flat(0)
    values[100] = 1
    connections(snap, "edufly-db", values)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_idle_read_replica_is_flagged_for_deletion():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    connections(snap, "edufly-db", flat(5))
    snap.rds_instance("edufly-db-replica", replica_of="edufly-db")
    connections(snap, "edufly-db-replica")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.name == "edufly-db-replica"
    assert finding.recommended == {"action": "delete the read replica"}
    assert "cannot be stopped" in finding.reason
    assert "--skip-final-snapshot" in how_to_apply(finding)["cli"]


def test_idle_primary_with_replicas_is_not_told_to_stop():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    connections(snap, "edufly-db")
    snap.rds_instance("edufly-db-replica", replica_of="edufly-db")
    connections(snap, "edufly-db-replica", flat(3))
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.name == "edufly-db"
    assert finding.recommended == {"action": "snapshot and delete"}
    assert "stop-db-instance" not in how_to_apply(finding)["cli"]


def test_stopped_instance_is_a_skipped_row_naming_its_status():
    """A stopped instance bills no instance hours and AWS starts it again after 7 days
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html): it is not
    judged, and the skipped row says so instead of dropping it."""
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging", status="stopped")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    [row] = result.skipped
    assert row.reason == "not-applicable"
    assert row.detail.startswith("status is stopped") and "7 days" in row.detail


def test_stopping_instance_is_skipped_as_not_applicable():
    """stopping is not a running status (accessing-monitoring.html#Overview.DBInstance.Status)."""
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging", status="stopping")
    connections(snap, "old-staging")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and "stopping" in row.detail


def test_modifying_instance_is_running_and_judged():
    """modifying is a billed, running status
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status):
    an instance nobody connects to while a setting changes is still idle."""
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging", status="modifying")
    connections(snap, "old-staging")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.recommended == {"action": "stop, or snapshot and delete"}


def test_no_connection_data_is_insufficient_not_idle():
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_partial_window_below_min_coverage_is_insufficient():
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging")
    connections(snap, "old-staging", flat(0, HOURS // 2))
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "50%" in row.detail


def test_coverage_at_minimum_is_judged():
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging")
    connections(snap, "old-staging", flat(0, round(HOURS * 0.8)))
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_unpriced_engine_is_skipped_with_no_price_detail():
    snap = SnapshotBuilder()
    snap.rds_instance("legacy", engine="mysql")
    connections(snap, "legacy")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and row.detail.startswith("no price for db.t3.medium")


def test_how_to_apply_offers_stop_and_delete():
    snap = SnapshotBuilder()
    snap.rds_instance("old-staging")
    connections(snap, "old-staging")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert "stop-db-instance" in steps["cli"] and "--final-db-snapshot-identifier" in steps["cli"]
    assert "final_snapshot_identifier" in steps["terraform"]
    assert "RemovalPolicy.SNAPSHOT" in steps["cdk"]
    assert RULE.id == "rds-idle"
