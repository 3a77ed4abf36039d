"""rds-reserved-instance: databases running 24/7 without an active reservation."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.rds_reserved_instance import Settings, evaluate, how_to_apply
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


# --- reservation states, size flexibility and the purchase commands ------------------------

RI_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithReservedDBInstances.html"


def test_payment_pending_reservation_counts_as_held_and_is_never_bought_twice():
    """A purchase is returned in state payment-pending (AWS CLI example
    purchase-reserved-db-instances-offering): it already covers the database."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small", multi_az=True)
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.small", multi_az=True, state="payment-pending")
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_payment_failed_reservation_does_not_cover_the_database():
    """A reservation whose payment failed bills nothing against usage."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.small", state="payment-failed")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["covered_units"] == 0


def test_reservation_in_an_unknown_state_is_a_skipped_row_not_a_purchase():
    """The API reference documents no State values
    (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ReservedDBInstance.html): a
    state the rule does not know may already cover the database, so nothing is recommended."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium", state="queued")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    [row] = result.skipped
    assert row.reason == "not-applicable"
    assert "ri-1 (queued)" in row.detail and "check it before buying" in row.detail


def test_unknown_state_reservation_of_another_family_does_not_block():
    """Size flexibility stays within a class type (RI_DOC): a db.m5 reservation in an unknown
    state cannot cover a db.t3 instance."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.m5.large", state="queued")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_multi_az_small_is_covered_by_one_single_az_medium():
    """Multi-AZ counts double: db.t3.small Multi-AZ = 2 units = one db.t3.medium Single-AZ
    (RI_DOC, "normalized units per hour")."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small", multi_az=True)
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium")
    assert evaluate(snap.build(), Settings()).findings == []


def test_partly_covered_instance_is_told_to_buy_only_the_missing_units():
    """db.t3.medium Multi-AZ is 4 units; a held db.t3.medium Single-AZ covers 2: the purchase
    is one Single-AZ db.t3.medium (2 units), which size flexibility applies to it (RI_DOC)."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium", multi_az=True)
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["purchase"] == [
        {"instance_class": "db.t3.medium", "multi_az": False, "count": 1}]
    cli = how_to_apply(finding)["cli"]
    assert "--db-instance-class db.t3.medium" in cli and "--no-multi-az" in cli


def test_three_missing_units_are_bought_as_a_medium_and_a_small():
    """db.t3.large (4 units) with a db.t3.small (1 unit) held: 3 units = medium (2) + small
    (1), the family's sizes from "Supported DB engines for DB instance classes"."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.large")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.small")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["purchase"] == [
        {"instance_class": "db.t3.medium", "multi_az": False, "count": 1},
        {"instance_class": "db.t3.small", "multi_az": False, "count": 1}]
    cli = how_to_apply(finding)["cli"]
    assert "OFFERING_1=$(" in cli and "OFFERING_2=$(" in cli


def test_license_included_engine_is_not_size_flexible():
    """Size flexibility covers MariaDB, MySQL, PostgreSQL and Oracle BYOL only (RI_DOC): a
    db.m5.xlarge sqlserver-se(li) reservation does not cover a db.m5.large SQL Server instance
    (which then has no price here and is skipped, not bought blind)."""
    snap = SnapshotBuilder()
    snap.rds_instance("erp-mssql", instance_class="db.m5.large", engine="sqlserver-se")
    snap.rds_cpu("erp-mssql")
    snap.rds_reservation("db.m5.xlarge", product_description="sqlserver-se(li)")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.detail.startswith("no price for db.m5.large (sqlserver-se)")


def test_reservation_of_another_engine_does_not_cover():
    """A reservation applies to its own DB engine (RI_DOC, "Overview"): a mysql one does not
    cover a PostgreSQL database."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small")
    snap.rds_cpu("edufly-db")
    snap.rds_reservation("db.t3.medium", product_description="mysql")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_aurora_engine_matches_its_own_product_description():
    """Engine aurora-postgresql is reserved as aurora-postgresql, not as 'aurora': a held
    reservation covers it."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-aurora", instance_class="db.r6g.large",
                      engine="aurora-postgresql")
    snap.rds_cpu("edufly-aurora")
    snap.rds_reservation("db.r6g.large", product_description="aurora-postgresql")
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_how_to_apply_captures_the_offering_id_then_purchases_it():
    """Purchasing needs an offering id (PurchaseReservedDBInstancesOffering requires
    ReservedDBInstancesOfferingId): the describe command's id is captured into a variable and
    the purchase runs only when one was found; Terraform has the same two steps; CloudFormation
    and CDK have no reserved DB instance resource."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small", multi_az=True)
    snap.rds_cpu("edufly-db")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert set(steps) == {"cli", "terraform", "cdk"}
    describe, purchase = [line for line in steps["cli"].splitlines()
                          if not line.startswith("#")]
    assert describe.startswith("OFFERING=$(aws rds describe-reserved-db-instances-offerings ")
    for part in ("--db-instance-class db.t3.small", "--product-description postgresql",
                 "--multi-az", "--duration 31536000", '--offering-type "No Upfront"',
                 "--output text", f"--region {REGION}"):
        assert part in describe
    assert purchase == (
        'if [ -n "$OFFERING" ] && [ "$OFFERING" != None ]; then aws rds '
        'purchase-reserved-db-instances-offering --reserved-db-instances-offering-id '
        f'"$OFFERING" --db-instance-count 1 --region {REGION}; else echo "no matching '
        'offering for db.t3.small Multi-AZ postgresql: nothing bought" >&2; fi')
    assert 'resource "aws_rds_reserved_instance" "edufly_db"' in steps["terraform"]
    assert "multi_az            = true" in steps["terraform"]
    assert steps["cdk"] == ""
