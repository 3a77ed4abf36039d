"""s3-lifecycle: buckets whose objects never leave STANDARD get a tiering recommendation."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer import pricing
from rightsizer.rules.s3_lifecycle import GB, Settings, evaluate
from tests.snapshot_factory import SnapshotBuilder

PRICED_REGION = "us-east-1"  # has S3 prices in the embedded tables

ABORT_ONLY = {"ID": "abort", "Status": "Enabled", "Filter": {},
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
TIERING = {"ID": "tiering", "Status": "Enabled", "Filter": {}, "Transitions": [
    {"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 365, "StorageClass": "GLACIER"}]}
EXPIRE_30 = {"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}


def judge(rules=None, *, size_gb=None, settings: Settings | None = None, **bucket):
    snap = SnapshotBuilder()
    bucket.setdefault("region", PRICED_REGION)
    snap.s3_bucket("edufly-docs", rules=rules, **bucket)
    if size_gb is not None:
        snap.s3_size("edufly-docs", np.asarray(size_gb) * GB, region=bucket["region"])
    return evaluate(snap.build(), settings or Settings())


def growing(final_gb: float = 180, per_day_gb: float = 0.2, days: int = 14) -> np.ndarray:
    return final_gb - per_day_gb * np.arange(days - 1, -1, -1)


def test_bucket_without_rules_is_flagged_absent():
    result = judge(None)
    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "s3-lifecycle"
    assert finding.resource_type == "s3-bucket"
    assert finding.current == {"lifecycle": "absent"}


def test_bucket_with_only_disabled_rules_is_flagged_disabled():
    [finding] = judge([{**TIERING, "Status": "Disabled"}]).findings
    assert finding.current == {"lifecycle": "disabled"}


def test_enabled_rule_with_only_multipart_abort_is_flagged_no_transition():
    [finding] = judge([ABORT_ONLY]).findings
    assert finding.current == {"lifecycle": "no-transition"}


def test_bucket_with_90_and_365_day_transitions_is_not_flagged():
    result = judge([TIERING])
    assert result.findings == []
    assert result.skipped == []


def test_whole_bucket_expiration_at_30_days_is_not_flagged():
    result = judge([EXPIRE_30])
    assert result.findings == []
    assert result.skipped == []


def test_expiration_of_only_a_prefix_does_not_excuse_the_bucket():
    result = judge([{**EXPIRE_30, "Filter": {"Prefix": "tmp/"}}])
    [finding] = result.findings
    assert finding.current == {"lifecycle": "no-transition"}


def test_unreadable_lifecycle_is_skipped_as_insufficient_data():
    result = judge(None, lifecycle_state="unknown")
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["insufficient-data"]


def test_recommendation_is_ia_at_90_glacier_at_365_and_abort_at_7_days():
    [finding] = judge(None).findings
    assert finding.recommended == {
        "transitions": [{"days": 90, "storage_class": "STANDARD_IA"},
                        {"days": 365, "storage_class": "GLACIER"}],
        "abort_incomplete_multipart_upload_days": 7,
    }


def test_slowly_growing_180_gb_bucket_has_positive_savings():
    [finding] = judge(None, size_gb=growing()).findings
    assert finding.evidence["standard_gb"] == pytest.approx(180)
    assert finding.monthly_savings_usd > 0
    assert finding.monthly_savings_usd < finding.monthly_cost_usd
    # 0.2 GB/day: 18 GB is younger than 90 days, 73 GB younger than 365 days
    assert finding.evidence["gb_older_than_ia_days"] == pytest.approx(162, abs=0.01)
    assert finding.evidence["gb_older_than_glacier_days"] == pytest.approx(107, abs=0.01)


def test_unknown_size_still_gives_a_finding_with_zero_savings():
    [finding] = judge(None).findings
    assert finding.monthly_savings_usd == 0
    assert finding.evidence["standard_gb"] is None
    assert "size unknown" in finding.reason


def test_bucket_younger_than_ia_days_saves_nothing_yet():
    [finding] = judge(None, size_gb=growing(), created_at="2026-09-01 00:00:00+00:00").findings
    assert finding.monthly_savings_usd == 0


def test_unpriced_region_gives_finding_without_savings():
    region = "xx-nowhere-1"
    assert pricing.s3_gb_month_usd(region, "STANDARD") is None
    [finding] = judge(None, size_gb=growing(), region=region).findings
    assert finding.monthly_savings_usd == 0
    assert finding.evidence["standard_gb"] == pytest.approx(180)
    # the reason says the dollars are unknown, not that the change saves nothing
    assert "the saving is not priced: no S3 STANDARD, STANDARD_IA, GLACIER storage price for " \
        f"{region}" in finding.reason
    assert "pricing refresh" in finding.reason


def test_custom_transition_days_are_recommended():
    settings = Settings(ia_days=30, glacier_days=180, abort_incomplete_multipart_days=3)
    [finding] = judge(None, settings=settings).findings
    assert finding.recommended["transitions"] == [
        {"days": 30, "storage_class": "STANDARD_IA"}, {"days": 180, "storage_class": "GLACIER"}]
    assert finding.recommended["abort_incomplete_multipart_upload_days"] == 3


def test_savings_price_the_ia_and_glacier_shares_at_their_own_rates():
    [finding] = judge(None, size_gb=growing()).findings
    standard, infrequent, glacier = (pricing.s3_gb_month_usd(PRICED_REGION, storage_class).usd
                                     for storage_class in ("STANDARD", "STANDARD_IA", "GLACIER"))
    assert finding.monthly_cost_usd == pytest.approx(180 * standard)
    assert finding.monthly_savings_usd == pytest.approx(
        (162 - 107) * (standard - infrequent) + 107 * (standard - glacier))


def test_small_average_object_size_is_warned_about():
    snap = SnapshotBuilder()
    snap.s3_bucket("edufly-thumbs", region=PRICED_REGION)
    snap.s3_size("edufly-thumbs", growing() * GB, region=PRICED_REGION)
    snap.s3_objects("edufly-thumbs", np.full(14, 180 * GB / (40 * 1024)), region=PRICED_REGION)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["average_object_kb"] == pytest.approx(40, abs=0.1)
    assert "128 KB" in finding.evidence["warning"]


def test_expiration_filtered_by_and_prefix_does_not_excuse_the_bucket():
    scoped = {**EXPIRE_30, "Filter": {"And": {"Prefix": "tmp/",
                                              "Tags": [{"Key": "kind", "Value": "scratch"}]}}}
    [finding] = judge([scoped]).findings
    assert finding.current == {"lifecycle": "no-transition"}
