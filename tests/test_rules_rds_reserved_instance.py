"""rds-reserved-instance: databases running 24/7 without an active reservation."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.rds_reserved_instance import Settings, evaluate
from tests.snapshot_factory import REGION, SnapshotBuilder


def monthly_saving(instance_class: str, multi_az: bool = False) -> float:
    on_demand = pricing.rds_hourly_usd(REGION, instance_class, multi_az=multi_az,
                                       engine="postgres")
    reserved = pricing.rds_hourly_usd(REGION, instance_class, multi_az=multi_az,
                                      engine="postgres", term="1yr-no-upfront")
    assert on_demand is not None and reserved is not None
    return (on_demand.usd - reserved.usd) * 730


def test_always_on_database_without_reservation_gets_1yr_no_upfront_finding():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium")
    snap.rds_cpu("edufly-db")
    result = evaluate(snap.build(), Settings())

    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "rds-reserved-instance"
    assert finding.resource_type == "rds-instance"
    assert finding.name == "edufly-db"
    assert finding.current == {"instance_class": "db.t3.medium", "multi_az": False}
    assert finding.recommended == {"term": "1yr", "offering": "No Upfront"}
    assert finding.monthly_savings_usd > 0
    assert finding.monthly_savings_usd == pytest.approx(monthly_saving("db.t3.medium"))
    assert finding.evidence["coverage"] == 1.0
    assert finding.evidence["reservations_readable"] is True
    assert "primary" in finding.reason


def test_multi_az_saving_uses_multi_az_prices():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium", multi_az=True)
    snap.rds_cpu("edufly-db")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.monthly_savings_usd == pytest.approx(monthly_saving("db.t3.medium", True))
    assert finding.monthly_savings_usd > monthly_saving("db.t3.medium")


def test_stopped_database_is_skipped_as_not_applicable():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", status="stopped")
    snap.rds_cpu("edufly-db")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]
    assert "stopped" in result.skipped[0].detail


def test_coverage_below_minimum_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    snap.rds_cpu("edufly-db", coverage=0.5)
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["insufficient-data"]


def test_database_without_any_cpu_datapoints_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    result = evaluate(snap.build(), Settings())
    assert [row.reason for row in result.skipped] == ["insufficient-data"]


def test_active_reservation_of_same_class_covers_the_database():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium", multi_az=True)
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium", multi_az=True)
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert result.skipped == []


def test_retired_reservation_does_not_cover_the_database():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium", state="retired")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_reservation_in_another_region_does_not_cover_the_database():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium", region="eu-west-1")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_one_medium_reservation_covers_two_smalls_by_size_flexibility():
    snap = SnapshotBuilder()
    for name in ("db-a", "db-b"):
        snap.rds_instance(name, instance_class="db.t3.small")
        snap.rds_cpu(name)
    snap.rds_reservation("db.t3.medium")  # 2 normalized units; each small is 1
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert result.skipped == []


def test_one_medium_reservation_covers_only_two_of_three_smalls():
    snap = SnapshotBuilder()
    for name in ("db-a", "db-b", "db-c"):
        snap.rds_instance(name, instance_class="db.t3.small")
        snap.rds_cpu(name)
    snap.rds_reservation("db.t3.medium")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_single_az_medium_reservation_does_not_cover_multi_az_medium():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium", multi_az=True)  # 4 units
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium")  # 2 units
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.name == "edufly-db"
    assert finding.evidence["normalized_units"] == 4
    assert finding.evidence["covered_units"] == 2


def test_partly_covered_instance_saves_only_on_uncovered_units():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium", multi_az=True)  # 4 units
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium")  # 2 units already bill half of it at the RI rate
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.monthly_savings_usd == pytest.approx(
        monthly_saving("db.t3.medium", multi_az=True) / 2)


def test_unreadable_reservations_are_stated_in_the_finding():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    snap.rds_cpu("edufly-db")
    snap.error("rds", "DescribeReservedDBInstances", code="AccessDenied",
               message="not authorized to perform rds:DescribeReservedDBInstances")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["reservations_readable"] is False
    assert "could not be read" in finding.reason
    assert "AccessDenied" in finding.reason


def test_reservation_error_in_another_region_does_not_taint_the_finding():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    snap.rds_cpu("edufly-db")
    snap.error("rds", "DescribeReservedDBInstances", region="eu-west-1")
    snap.error("rds", "DescribeDBInstances")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["reservations_readable"] is True
    assert "could not be read" not in finding.reason


def test_read_replica_is_counted_and_named_as_replica():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db")
    snap.rds_instance("edufly-db-replica", replica_of="edufly-db")
    snap.rds_cpu("edufly-db")
    snap.rds_cpu("edufly-db-replica")
    findings = evaluate(snap.build(), Settings()).findings
    assert sorted(f.name for f in findings) == ["edufly-db", "edufly-db-replica"]
    replica = next(f for f in findings if f.name == "edufly-db-replica")
    assert "read replica of edufly-db" in replica.reason


def test_class_without_a_price_is_skipped_with_no_price_for():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.x2g.large")
    snap.rds_cpu("edufly-db")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]
    assert "no price for db.x2g.large" in result.skipped[0].detail
