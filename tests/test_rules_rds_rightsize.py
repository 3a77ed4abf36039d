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
