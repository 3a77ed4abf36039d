"""rds-rightsize: one size down in the family when CPU and memory leave room."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from rightsizer import pricing
from rightsizer.rules.rds_rightsize import CLASS_SPECS, RULE, Settings, evaluate, how_to_apply
from tests.snapshot_factory import HOURS, REGION, SnapshotBuilder, flat

GIB = 1024**3


def usage(snap: SnapshotBuilder, db: str, *, cpu_max: float | np.ndarray = 20.0,
          free_gib: float = 24.0, hours: int = HOURS) -> None:
    cpu = flat(cpu_max, hours) if np.isscalar(cpu_max) else np.asarray(cpu_max, dtype=float)
    snap.rds_metric(db, "CPUUtilization", "Maximum", cpu)
    snap.rds_metric(db, "FreeableMemory", "Minimum", flat(free_gib * GIB, hours))


def monthly(instance_class: str, multi_az: bool = False) -> float:
    price = pricing.rds_hourly_usd(REGION, instance_class, multi_az=multi_az)
    assert price is not None
    return price.usd * 730


def test_quiet_xlarge_steps_down_to_large():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db", cpu_max=20, free_gib=24)
    result = evaluate(snap.build(), Settings())

    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "rds-rightsize" and finding.resource_type == "rds-instance"
    assert finding.current == {"instance_class": "db.r6g.xlarge", "multi_az": False}
    assert finding.recommended == {"instance_class": "db.r6g.large", "multi_az": False}
    assert finding.monthly_savings_usd == pytest.approx(
        monthly("db.r6g.xlarge") - monthly("db.r6g.large"))
    ev = finding.evidence
    assert ev["cpu_p95_percent"] == 20
    assert ev["class_memory_gib"] == 32 and ev["target_memory_gib"] == 16
    assert ev["memory_in_use_gib"] == pytest.approx(8)
    assert ev["memory_needed_gib"] == pytest.approx(9.6)
    assert ev["projected_cpu_p95_percent"] == pytest.approx(40)
    assert finding.monthly_savings_usd == pytest.approx(
        (ev["hourly_current_usd"] - ev["hourly_recommended_usd"]) * ev["hours_per_month"])
    assert "CPU credits" not in finding.reason


def test_multi_az_saving_uses_multi_az_prices():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge", multi_az=True)
    usage(snap, "edufly-db")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.monthly_savings_usd == pytest.approx(
        monthly("db.r6g.xlarge", True) - monthly("db.r6g.large", True))


def test_cpu_exactly_at_threshold_is_not_downsized():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db", cpu_max=40)
    assert evaluate(snap.build(), Settings()).findings == []


def test_low_average_but_high_p95_is_not_downsized():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    cpu = np.where(np.arange(HOURS) % 24 < 3, 90.0, 5.0)  # 3 busy hours a day = 12.5%
    usage(snap, "edufly-db", cpu_max=cpu)
    assert evaluate(snap.build(), Settings()).findings == []


def test_free_memory_exactly_at_threshold_is_not_downsized():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db", free_gib=16)  # 50% of 32 GiB
    assert evaluate(snap.build(), Settings()).findings == []


def test_smaller_class_too_small_for_memory_in_use_plus_headroom():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db", free_gib=17)  # 15 GiB in use x 1.2 = 18 > 16
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_cpu_scaled_to_fewer_vcpus_must_stay_under_limit():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db", cpu_max=36)  # 36% of 4 vCPU = 72% of 2 vCPU
    assert evaluate(snap.build(), Settings()).findings == []


def test_smallest_class_in_family_gets_no_finding():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.micro")
    usage(snap, "edufly-db", cpu_max=1, free_gib=0.9)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_burstable_class_mentions_cpu_credits():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.medium")
    usage(snap, "edufly-db", cpu_max=20, free_gib=3.5)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.recommended["instance_class"] == "db.t3.small"
    assert "CPU credits" in finding.reason


def test_no_metrics_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_partial_window_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db", hours=HOURS // 2)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "50%" in row.detail


def test_memory_series_missing_is_insufficient_even_with_cpu():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    snap.rds_metric("edufly-db", "CPUUtilization", "Maximum", flat(10))
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_class_without_price_in_region_is_skipped_with_no_price_detail():
    snap = SnapshotBuilder()  # ap-south-1 has no db.t4g prices
    snap.rds_instance("edufly-db", instance_class="db.t4g.medium")
    usage(snap, "edufly-db", cpu_max=20, free_gib=3.5)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert row.detail.startswith("no price for db.t4g.medium") and REGION in row.detail


def test_unknown_family_is_not_applicable():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.m7g.large")
    usage(snap, "edufly-db")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"


def test_stopped_instance_is_not_sized():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge", status="stopped")
    usage(snap, "edufly-db")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]


def test_every_priced_class_has_specs():
    for family in ("db.t3", "db.t4g", "db.m5", "db.m6g", "db.r5", "db.r6g"):
        for instance_class in pricing.rds_classes_in_family(family):
            assert instance_class in CLASS_SPECS


def test_how_to_apply_modifies_the_class():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    usage(snap, "edufly-db")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert "--db-instance-class db.r6g.large" in steps["cli"]
    assert 'instance_class = "db.r6g.large"' in steps["terraform"]
    assert 'new ec2.InstanceType("r6g.large")' in steps["cdk"]
    assert RULE.id == "rds-rightsize"


def test_settings_bounds():
    with pytest.raises(ValidationError):
        Settings(cpu_threshold_percent=0)
    with pytest.raises(ValidationError):
        Settings(min_free_memory_percent=100)


# --- targets valid for the engine and the API -----------------------------------------------

SUPPORT_DOC = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
               "Concepts.DBInstanceClass.Support.html")


def test_m6g_large_is_the_smallest_m6g_class_there_is_no_medium():
    """db.m6g sizes start at large (SUPPORT_DOC lists no db.m6g.medium): nothing smaller to
    offer, never an invented class."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.m6g.large")
    usage(snap, "edufly-db", cpu_max=5, free_gib=7)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_r6g_large_is_never_sized_down_to_a_r6g_medium():
    """No db.r6g.medium exists (SUPPORT_DOC): a quiet db.r6g.large keeps its class."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.large")
    usage(snap, "edufly-db", cpu_max=5, free_gib=15)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_postgres_t4g_small_steps_down_to_t4g_micro_with_its_price():
    """db.t4g.micro exists for PostgreSQL (SUPPORT_DOC); us-east-1 prices it."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t4g.small", region="us-east-1")
    snap.rds_metric("edufly-db", "CPUUtilization", "Maximum", flat(10), region="us-east-1")
    snap.rds_metric("edufly-db", "FreeableMemory", "Minimum", flat(1.8 * GIB),
                    region="us-east-1")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.recommended == {"instance_class": "db.t4g.micro", "multi_az": False}
    target = pricing.rds_hourly_usd("us-east-1", "db.t4g.micro", multi_az=False)
    assert finding.evidence["hourly_recommended_usd"] == target.usd


def test_a_class_that_does_not_exist_for_the_type_is_not_applicable():
    """db.m6g.medium is not a class (SUPPORT_DOC): an instance reported with it is skipped with
    the sizes that exist, not sized against a guess."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.m6g.medium")
    usage(snap, "edufly-db")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert "db.m6g.medium is not a postgres class of db.m6g" in row.detail
    assert "large, xlarge" in row.detail


def test_sql_server_classes_are_not_guessed():
    """SQL Server class support varies by edition and version (db.t3.micro is "No" for SQL
    Server in SUPPORT_DOC): no smaller class is recommended, the row says why."""
    snap = SnapshotBuilder()
    snap.rds_instance("erp-mssql", instance_class="db.t3.small", engine="sqlserver-ex")
    usage(snap, "erp-mssql", cpu_max=5, free_gib=1.5)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert "engine 'sqlserver-ex' are not tabled" in row.detail


def test_a_pending_class_change_is_not_recommended_again():
    """A class already in PendingModifiedValues applies in the next maintenance window
    (ModifyDBInstance without ApplyImmediately): recommending it again would be noise."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    snap.rows["rds_instances"][-1]["pending_instance_class"] = "db.r6g.large"
    usage(snap, "edufly-db")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert "a change to db.r6g.large is already pending" in row.detail


def test_read_replica_is_not_sized_below_its_source():
    """AWS recommends a read replica with the same or a larger DB instance class than its
    source (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html): the
    quiet replica of a db.r6g.xlarge keeps its class."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge")
    snap.rds_instance("edufly-db-replica", instance_class="db.r6g.xlarge",
                      replica_of="edufly-db")
    usage(snap, "edufly-db", cpu_max=60, free_gib=4)  # the busy primary keeps its class
    usage(snap, "edufly-db-replica")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    [row] = result.skipped
    assert row.name == "edufly-db-replica"
    assert "read replica of edufly-db (db.r6g.xlarge)" in row.detail


def test_read_replica_larger_than_its_source_can_come_down_to_the_source_class():
    """A replica above its source's class may shrink to it (USER_ReadRepl.html: same or
    larger than the source)."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.large")
    snap.rds_instance("edufly-db-replica", instance_class="db.r6g.xlarge",
                      replica_of="edufly-db")
    usage(snap, "edufly-db", cpu_max=60, free_gib=4)
    usage(snap, "edufly-db-replica")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.name == "edufly-db-replica"
    assert finding.recommended["instance_class"] == "db.r6g.large"


def test_how_to_apply_is_a_modify_db_instance_command_that_names_the_maintenance_window():
    """ModifyDBInstance with --db-instance-class; without --apply-immediately the change waits
    for the maintenance window
    (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html), and a
    Multi-AZ instance fails over to its standby."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge", multi_az=True)
    usage(snap, "edufly-db")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert set(steps) == {"cli", "terraform", "cdk"}
    [command] = [line for line in steps["cli"].splitlines() if not line.startswith("#")]
    assert command == ("aws rds modify-db-instance --db-instance-identifier edufly-db "
                       f"--db-instance-class db.r6g.large --no-apply-immediately "
                       f"--region {REGION}")
    assert "next maintenance window" in steps["cli"] and "fails over" in steps["cli"]
