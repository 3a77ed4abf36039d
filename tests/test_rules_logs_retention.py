"""logs-retention: log groups that never expire."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rightsizer.rules.logs_retention import (
    ALLOWED_RETENTION_DAYS,
    RULE,
    Settings,
    evaluate,
    how_to_apply,
    older_share,
)
from tests.snapshot_factory import SnapshotBuilder

PRICED = "us-east-1"  # $0.03/GB-month in cloudwatch.json
GB = 1024**3


def test_never_expiring_group_gets_retention_with_savings_on_older_data():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/edufly-api", stored_bytes=100 * GB, created_days_ago=365,
                   region=PRICED)
    result = evaluate(snap.build(), Settings())

    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "logs-retention"
    assert finding.resource_type == "log-group"
    assert finding.name == "/ecs/edufly-api"
    assert finding.current == {"retention_days": None}
    assert finding.recommended == {"retention_days": 30}
    assert finding.monthly_cost_usd == pytest.approx(100 * 0.03)
    assert finding.monthly_savings_usd == pytest.approx(100 * 0.03 * (1 - 30 / 365))
    ev = finding.evidence
    assert ev["stored_gb"] == pytest.approx(100)
    assert ev["price_gb_month_usd"] == pytest.approx(0.03)
    assert ev["share_older_than_retention"] == pytest.approx(1 - 30 / 365, abs=1e-4)
    assert "uniform ingestion" in ev["assumption"]
    assert "100.00 GB" in finding.reason


def test_group_with_retention_is_left_alone():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/api", retention_days=14, stored_bytes=5 * GB, region=PRICED)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_empty_group_gets_no_finding():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/empty", stored_bytes=0, region=PRICED)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_group_younger_than_retention_is_flagged_with_zero_savings():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/new", stored_bytes=2 * GB, created_days_ago=20, region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.monthly_savings_usd == 0
    assert finding.monthly_cost_usd == pytest.approx(2 * 0.03)
    assert "nothing would expire yet" in finding.reason


def test_group_exactly_as_old_as_retention_saves_nothing():
    assert older_share(30, 30) == 0
    assert older_share(60, 30) == pytest.approx(0.5)


def test_custom_retention_changes_the_estimate():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/api", stored_bytes=10 * GB, created_days_ago=730, region=PRICED)
    [finding] = evaluate(snap.build(), Settings(retention_days=365)).findings
    assert finding.recommended == {"retention_days": 365}
    assert finding.monthly_savings_usd == pytest.approx(10 * 0.03 * (1 - 365 / 730))


def test_region_without_logs_price_is_skipped_not_guessed():
    snap = SnapshotBuilder()  # sa-east-1: no sourced CloudWatch Logs storage price
    snap.log_group("/ecs/api", stored_bytes=GB, region="sa-east-1")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert row.detail == "no price for CloudWatch Logs storage in sa-east-1"


def test_infrequent_access_class_is_not_priced_with_standard_rate():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/api", stored_bytes=GB, log_group_class="INFREQUENT_ACCESS",
                   region=PRICED)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and "INFREQUENT_ACCESS" in row.detail


def test_unknown_creation_time_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/api", stored_bytes=GB, created_days_ago=None, region=PRICED)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


@pytest.mark.parametrize("days", [0, 2, 31, 366, 4000])
def test_retention_must_be_a_cloudwatch_value(days):
    with pytest.raises(ValidationError):
        Settings(retention_days=days)


@pytest.mark.parametrize("days", ALLOWED_RETENTION_DAYS)
def test_every_cloudwatch_retention_is_accepted(days):
    assert Settings(retention_days=days).retention_days == days


def test_how_to_apply_sets_the_retention():
    snap = SnapshotBuilder()
    snap.log_group("/ecs/api", stored_bytes=GB, region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert "put-retention-policy" in steps["cli"] and "--retention-in-days 30" in steps["cli"]
    assert "retention_in_days = 30" in steps["terraform"]
    assert "retention: logs.RetentionDays.ONE_MONTH" in steps["cdk"]
    assert RULE.id == "logs-retention" and RULE.resource_type == "log-group"
