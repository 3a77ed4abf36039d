"""rds-storage-gp3: gp2 volumes where gp3 costs less or gives more baseline IOPS."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules import rds_storage_gp3
from rightsizer.rules.rds_storage_gp3 import (
    RULE,
    Settings,
    evaluate,
    gp2_baseline_iops,
    gp3_baseline,
    how_to_apply,
)
from tests.snapshot_factory import SnapshotBuilder

EQUAL_PRICES = "us-east-1"  # gp2 and gp3 both $0.115/GB-month on RDS


def gp2_instance(size_gb: int, *, region: str = EQUAL_PRICES, multi_az: bool = False,
                 engine: str = "postgres") -> SnapshotBuilder:
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", region=region, multi_az=multi_az, engine=engine)
    snap.rds_storage("edufly-db", "gp2", size_gb)
    return snap


def test_small_gp2_volume_at_equal_price_is_free_performance_with_zero_savings():
    [finding] = evaluate(gp2_instance(100).build(), Settings()).findings
    assert finding.rule == "rds-storage-gp3" and finding.resource_type == "rds-instance"
    assert finding.monthly_savings_usd == 0
    assert finding.monthly_cost_usd == pytest.approx(100 * 0.115)
    assert finding.current == {"storage_type": "gp2", "allocated_storage_gb": 100,
                               "baseline_iops": 300}
    assert finding.recommended["storage_type"] == "gp3"
    assert finding.recommended["baseline_iops"] == 3000
    assert finding.recommended["throughput_mibps"] == 125
    assert "no saving ($0), free performance" in finding.reason
    assert finding.evidence["gp2_gb_month_usd"] == finding.evidence["gp3_gb_month_usd"]


def test_free_performance_findings_can_be_turned_off():
    result = evaluate(gp2_instance(100).build(), Settings(report_free_performance=False))
    assert result.findings == [] and result.skipped == []


def test_large_postgres_volume_uses_striped_gp3_baseline():
    [finding] = evaluate(gp2_instance(1000).build(), Settings()).findings
    assert finding.current["baseline_iops"] == 3000
    assert finding.recommended["baseline_iops"] == 12000
    assert finding.recommended["throughput_mibps"] == 500


def test_gp2_at_or_above_gp3_baseline_at_equal_price_gets_nothing():
    # 4,000 GB gp2 = 12,000 IOPS, the same as striped gp3: neither cheaper nor faster
    result = evaluate(gp2_instance(4000).build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_sql_server_never_stripes():
    assert gp3_baseline("sqlserver-se", 1000) == (3000, 125)
    assert gp3_baseline("oracle-ee", 200) == (12000, 500)
    assert gp3_baseline("postgres", 399) == (3000, 125)
    assert gp3_baseline("postgres", 400) == (12000, 500)
    assert gp2_baseline_iops(20) == 100 and gp2_baseline_iops(10_000) == 16_000


def test_gp3_volume_is_left_alone():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", region=EQUAL_PRICES)  # factory default: gp3
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_region_without_storage_prices_is_skipped_not_guessed():
    [row] = evaluate(gp2_instance(100, region="ap-south-1").build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert row.detail == "no price for RDS gp2 and gp3 storage in ap-south-1"


def test_cheaper_gp3_gives_dollar_savings_doubled_for_multi_az(monkeypatch):
    # No sourced region has gp3 cheaper than gp2 on RDS; a fake table checks the arithmetic.
    def fake(region: str, storage_type: str, *, multi_az: bool) -> pricing.Price:
        usd = {"gp2": 0.10, "gp3": 0.08}[storage_type] * (2 if multi_az else 1)
        return pricing.Price(usd, "GB-month", "test", "test")

    monkeypatch.setattr(rds_storage_gp3.pricing, "rds_storage_gb_month_usd", fake)
    [finding] = evaluate(gp2_instance(4000, multi_az=True).build(), Settings()).findings
    assert finding.monthly_savings_usd == pytest.approx(4000 * (0.20 - 0.16))
    assert finding.evidence["saving_per_gb_month_usd"] == pytest.approx(0.04)
    assert "x2 for Multi-AZ" in finding.reason


def test_unknown_size_is_insufficient_data():
    [row] = evaluate(gp2_instance(0).build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_how_to_apply_switches_storage_type():
    [finding] = evaluate(gp2_instance(100).build(), Settings()).findings
    steps = how_to_apply(finding)
    assert "--storage-type gp3" in steps["cli"]
    assert 'storage_type = "gp3"' in steps["terraform"]
    assert "rds.StorageType.GP3" in steps["cdk"]
    assert RULE.id == "rds-storage-gp3"


# --- gp3's size limits: at and under each minimum, above the maximum ------------------------

STORAGE_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html"


def cli_command(finding) -> str:
    [command] = [line for line in how_to_apply(finding)["cli"].splitlines()
                 if not line.startswith("#")]
    return command


def test_gp2_at_the_20_gib_gp3_minimum_moves_without_changing_its_size():
    """gp3 volumes are 20 GiB-64 TiB (STORAGE_DOC, "Volume size"): 20 GiB is allowed as is."""
    [finding] = evaluate(gp2_instance(20).build(), Settings()).findings
    assert finding.recommended["allocated_storage_gb"] == 20
    assert cli_command(finding) == (
        "aws rds modify-db-instance --db-instance-identifier edufly-db --storage-type gp3 "
        f"--apply-immediately --region {EQUAL_PRICES}")


@pytest.mark.parametrize(("size", "target"), [(19, 21), (18, 20), (5, 20)])
def test_gp2_under_the_gp3_minimum_is_skipped_with_the_size_the_move_needs(size, target):
    """Under 20 GiB the move must also grow the volume to gp3's minimum, by at least 10% (an
    increase under 10% is an error, and storage can never shrink: USER_PIOPS.StorageTypes.html
    #USER_PIOPS.ModifyingExisting): at equal prices that costs more, so it is a skipped row
    that names the size and the extra cost. 5 GiB gp2 is what old instances report (Cloud
    Custodian placebo test_rds_stop/rds.DescribeDBInstances_1.json)."""
    [row] = evaluate(gp2_instance(size).build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert f"{size} GiB gp2 is under gp3's 20 GiB minimum" in row.detail
    assert f"--allocated-storage {target}," in row.detail
    assert f"+${(target - size) * 0.115:,.2f}/month" in row.detail


def test_under_minimum_move_that_still_saves_sets_the_allocated_storage(monkeypatch):
    """Where 20 GiB of gp3 would cost less than the gp2 volume (a fake price table: no sourced
    region has that), the finding's command grows the volume with --allocated-storage."""
    def fake(region: str, storage_type: str, *, multi_az: bool) -> pricing.Price:
        return pricing.Price({"gp2": 0.50, "gp3": 0.10}[storage_type], "GB-month", "t", "t")

    monkeypatch.setattr(rds_storage_gp3.pricing, "rds_storage_gb_month_usd", fake)
    [finding] = evaluate(gp2_instance(5).build(), Settings()).findings
    assert finding.recommended["allocated_storage_gb"] == 20
    assert finding.monthly_savings_usd == pytest.approx(5 * 0.50 - 20 * 0.10)
    assert "--storage-type gp3 --allocated-storage 20 --apply-immediately" in cli_command(
        finding)
    steps = how_to_apply(finding)
    assert "allocated_storage = 20" in steps["terraform"]
    assert "allocatedStorage: 20" in steps["cdk"]


def test_sql_server_above_the_16_tib_gp3_maximum_is_not_applicable():
    """gp3 on SQL Server stops at 16 TiB (STORAGE_DOC): a larger volume is not moved."""
    [row] = evaluate(gp2_instance(16_385, engine="sqlserver-se").build(), Settings()).skipped
    assert row.reason == "not-applicable" and "16,384 GiB maximum" in row.detail


def test_postgres_up_to_64_tib_is_within_gp3():
    """64 TiB is gp3's maximum for PostgreSQL (STORAGE_DOC); at 16,385 GiB gp2 already has its
    16,000 IOPS maximum, so there is nothing to gain and nothing to skip."""
    result = evaluate(gp2_instance(16_385).build(), Settings())
    assert result.skipped == []


def test_instance_without_storage_type_is_insufficient_data():
    """StorageType is optional in DescribeDBInstances (missing in some recorded responses, e.g.
    Cloud Custodian placebo test_rdsparamgroup_unused): storage unknown, no guess."""
    snap = gp2_instance(100)
    snap.rows["rds_instances"][-1]["storage_type"] = ""
    snap.rows["rds_instances"][-1]["allocated_storage_gb"] = 0
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "StorageType" in row.detail


def test_pending_storage_change_is_not_recommended_again():
    """A storage type waiting in PendingModifiedValues is already on its way."""
    snap = gp2_instance(100)
    snap.rows["rds_instances"][-1]["pending_storage_type"] = "gp3"
    [row] = evaluate(snap.build(), Settings()).skipped
    assert "a change to gp3 storage is already pending" in row.detail


def test_storage_optimization_is_judged_and_says_when_it_can_apply():
    """storage-optimization is a running status, but storage cannot be modified until it
    completes (accessing-monitoring.html#Overview.DBInstance.Status)."""
    snap = gp2_instance(100)
    snap.rows["rds_instances"][-1]["status"] = "storage-optimization"
    [finding] = evaluate(snap.build(), Settings()).findings
    assert "once it completes" in finding.reason


def test_multi_az_read_replica_shape_keeps_its_own_storage_finding():
    """A read replica has its own volume (Multi-AZ doubles its price): each is judged."""
    snap = gp2_instance(100, multi_az=True)
    snap.rds_instance("edufly-db-replica", region=EQUAL_PRICES, replica_of="edufly-db")
    snap.rds_storage("edufly-db-replica", "gp2", 100)
    findings = {f.name: f for f in evaluate(snap.build(), Settings()).findings}
    assert set(findings) == {"edufly-db", "edufly-db-replica"}
    assert findings["edufly-db"].monthly_cost_usd == pytest.approx(
        2 * findings["edufly-db-replica"].monthly_cost_usd)
    assert findings["edufly-db-replica"].evidence["read_replica_of"] == "edufly-db"
