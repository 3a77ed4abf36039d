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
