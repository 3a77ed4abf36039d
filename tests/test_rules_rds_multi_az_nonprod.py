"""rds-multi-az-nonprod: Multi-AZ standbys on non-production databases.

A Multi-AZ DB instance keeps a synchronous standby in another Availability Zone, billed as a
second instance (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.html,
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html).
"""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.rds_multi_az_nonprod import Settings, evaluate, how_to_apply
from tests.snapshot_factory import SnapshotBuilder
from tests.test_rds_apply_commands import REGION, cli_env, create_db, describe, moto_url, paste

__all__ = ["moto_url"]  # the moto server fixture, shared with the other RDS apply tests


def _result(snap: SnapshotBuilder):
    return evaluate(snap.build(), Settings())


def test_multi_az_production_database_is_never_flagged():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", multi_az=True, tags={"env": "production"})
    # tagged production wins over a name that looks like staging
    snap.rds_instance("edufly-staging-primary", multi_az=True, tags={"Environment": "prod"})
    # untagged and no pattern: not known to be non-production
    snap.rds_instance("edufly-orders", multi_az=True)
    result = _result(snap)
    assert result.findings == [] and result.skipped == []


def test_multi_az_staging_database_is_flagged_at_the_standby_price():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db-staging-2", instance_class="db.t3.small", multi_az=True,
                      tags={"env": "staging"})
    [finding] = _result(snap).findings
    single = pricing.rds_hourly_usd(REGION, "db.t3.small", multi_az=False)
    multi = pricing.rds_hourly_usd(REGION, "db.t3.small", multi_az=True)
    assert single is not None and multi is not None
    assert finding.current == {"instance_class": "db.t3.small", "multi_az": True}
    assert finding.recommended == {"instance_class": "db.t3.small", "multi_az": False}
    assert finding.monthly_savings_usd == pytest.approx((multi.usd - single.usd) * 730)
    assert "tagged env=staging" in finding.reason
    # no sourced ap-south-1 storage price: the standby's volume is not counted, and said so
    assert finding.evidence["standby_storage_monthly_usd"] is None
    assert "not priced" in finding.reason


def test_storage_copy_is_counted_where_rds_storage_is_priced():
    snap = SnapshotBuilder()
    snap.rds_instance("api-test", instance_class="db.t3.medium", multi_az=True,
                      region="us-east-1")  # gp3, 100 GB; matched by name "*-test*"
    [finding] = _result(snap).findings
    instance = (0.072 * 2 - 0.072) * 730
    storage = (0.115 * 2 - 0.115) * 100
    assert finding.monthly_savings_usd == pytest.approx(instance + storage)
    assert "matches '*-test*'" in finding.reason


def test_single_az_staging_database_has_nothing_to_remove():
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-staging-db", multi_az=False, tags={"env": "staging"})
    result = _result(snap)
    assert result.findings == [] and result.skipped == []


def test_stopped_staging_database_is_skipped_with_the_status_verdict():
    """A stopped instance bills no instance hours (USER_StopInstance.html)."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-staging-db", multi_az=True, status="stopped",
                      tags={"env": "staging"})
    [skipped] = _result(snap).skipped
    assert skipped.reason == "not-applicable"
    assert skipped.detail.startswith("status is stopped")


def test_unpriced_engine_is_a_skipped_row_not_a_guess():
    snap = SnapshotBuilder()
    snap.rds_instance("shop-dev", multi_az=True, engine="mysql")
    [skipped] = _result(snap).skipped
    assert skipped.detail.startswith("no price for db.t3.medium (mysql, Multi-AZ) in ap-south-1")


def test_tag_keys_values_and_patterns_are_configurable():
    snap = SnapshotBuilder()
    snap.rds_instance("orders-uat", multi_az=True, tags={"tier": "uat"})
    settings = Settings(tag_keys=["tier"], nonprod_values=["uat"], name_patterns=[])
    [finding] = evaluate(snap.build(), settings).findings
    assert "tagged tier=uat" in finding.reason


def test_cli_turns_multi_az_off_with_the_aws_cli_against_moto(moto_url, tmp_path):
    """`aws rds modify-db-instance --no-multi-az` (ModifyDBInstance MultiAZ,
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html); moto
    applies it at once, AWS in the maintenance window (--no-apply-immediately)."""
    create_db(moto_url, "edufly-db-staging-9", instance_class="db.t3.small", multi_az=True)
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db-staging-9", instance_class="db.t3.small", multi_az=True,
                      region=REGION)
    [finding] = _result(snap).findings
    answer = how_to_apply(finding)
    assert set(answer) == {"cli", "terraform", "cdk"}
    assert "--no-multi-az --no-apply-immediately" in answer["cli"]
    paste(answer["cli"], cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    assert describe(moto_url, "edufly-db-staging-9")["MultiAZ"] is False
