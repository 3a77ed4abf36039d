"""Suppression: findings the user asked not to see become `suppressed` skipped rows."""

from __future__ import annotations

from datetime import date

from rightsizer.config import _validate
from rightsizer.report.build import run_rules
from tests.snapshot_factory import SnapshotBuilder, flat

TODAY = date(2026, 11, 1)


def snapshot(tags: dict[str, str] | None = None, *, ec2_tags: dict[str, str] | None = None):
    """One idle worker (flagged by ecs-rightsize and ecs-fargate-spot) and, if `ec2_tags` is
    given, an EC2 service (skipped by both ECS rules)."""
    snap = SnapshotBuilder()
    snap.ecs_service("worker", cpu=2048, memory=4096, tags=tags)
    snap.ecs_usage("worker", cpu_max=flat(15), memory_max=flat(20))
    if ec2_tags is not None:
        snap.ecs_service("legacy", launch_type="EC2", tags=ec2_tags)
        snap.ecs_usage("legacy", cpu_max=flat(15), memory_max=flat(20))
    return snap.build()


ARN = "arn:aws:ecs:ap-south-1:123456789012:service/edufly/worker"


def run(snap, suppress: dict | None = None, today: date = TODAY):
    # compute-savings-plan judges the account's whole Fargate spend, not the worker: its
    # account-level finding is not what these resource suppressions are about
    config = _validate({"suppress": suppress or {},
                        "rules": {"compute-savings-plan": {"enabled": False}}}, "test")
    return run_rules(snap, config, today)


def rules_of(rows) -> set[str]:
    return {row.rule for row in rows}


def suppressed(skipped) -> dict[str, str]:
    return {row.rule: row.detail for row in skipped if row.reason == "suppressed"}


def test_unsuppressed_worker_has_both_ecs_findings():
    findings, skipped = run(snapshot())
    assert rules_of(findings) == {"ecs-rightsize", "ecs-fargate-spot"}
    assert suppressed(skipped) == {}


def test_resource_with_ignore_tag_is_suppressed_for_every_rule():
    findings, skipped = run(snapshot({"rightsizer:ignore": ""}))
    assert findings == []
    # graviton-migration skips the worker (no ECR image to read): that row is suppressed too
    assert suppressed(skipped) == {"ecs-rightsize": "tag rightsizer:ignore",
                                   "ecs-fargate-spot": "tag rightsizer:ignore",
                                   "graviton-migration": "tag rightsizer:ignore"}
    assert {row.resource_id for row in skipped} == {ARN}


def test_tag_value_true_suppresses_every_rule():
    findings, skipped = run(snapshot({"rightsizer:ignore": "true"}))
    assert findings == []
    assert set(suppressed(skipped)) == {"ecs-rightsize", "ecs-fargate-spot",
                                        "graviton-migration"}


def test_tag_value_listing_rule_ids_suppresses_only_those_rules():
    findings, skipped = run(snapshot({"rightsizer:ignore": "ecs-fargate-spot, s3-lifecycle"}))
    assert rules_of(findings) == {"ecs-rightsize"}
    assert set(suppressed(skipped)) == {"ecs-fargate-spot"}


def test_tag_value_false_does_not_suppress():
    for value in ("false", "FALSE", " False "):
        findings, skipped = run(snapshot({"rightsizer:ignore": value}))
        assert rules_of(findings) == {"ecs-rightsize", "ecs-fargate-spot"}, value
        assert suppressed(skipped) == {}


def test_configured_tag_name_is_the_one_that_counts():
    snap = snapshot({"rightsizer:ignore": "true"})
    findings, _ = run(snap, {"tag": "cost:ignore"})
    assert rules_of(findings) == {"ecs-rightsize", "ecs-fargate-spot"}
    findings, _ = run(snapshot({"cost:ignore": "true"}), {"tag": "cost:ignore"})
    assert findings == []


def test_suppress_entry_by_name_with_rule_suppresses_only_that_rule():
    entry = {"resource": "worker", "rule": "ecs-fargate-spot", "reason": "needs steady capacity"}
    findings, skipped = run(snapshot(), {"resources": [entry]})
    assert rules_of(findings) == {"ecs-rightsize"}
    assert suppressed(skipped) == {"ecs-fargate-spot": "needs steady capacity"}


def test_suppress_entry_by_arn_without_rule_suppresses_every_rule():
    findings, skipped = run(snapshot(), {"resources": [{"resource": ARN}]})
    assert findings == []
    assert suppressed(skipped) == {"ecs-rightsize": "listed in [suppress]",
                                   "ecs-fargate-spot": "listed in [suppress]",
                                   "graviton-migration": "listed in [suppress]"}


def test_suppress_entry_for_another_resource_changes_nothing():
    findings, skipped = run(snapshot(), {"resources": [{"resource": "worker-2"}]})
    assert rules_of(findings) == {"ecs-rightsize", "ecs-fargate-spot"}
    assert suppressed(skipped) == {}


def test_suppress_entry_until_today_still_suppresses():
    entry = {"resource": "worker", "reason": "exam season", "expires": date(2026, 11, 1)}
    findings, skipped = run(snapshot(), {"resources": [entry]})
    assert findings == []
    assert suppressed(skipped)["ecs-rightsize"] == "exam season (until 2026-11-01)"


def test_expired_suppress_entry_stops_suppressing_and_says_so():
    entry = {"resource": "worker", "rule": "ecs-rightsize", "expires": date(2026, 10, 31)}
    findings, skipped = run(snapshot(), {"resources": [entry]})
    assert rules_of(findings) == {"ecs-rightsize", "ecs-fargate-spot"}
    assert suppressed(skipped) == {}
    by_rule = {finding.rule: finding for finding in findings}
    assert "(suppression expired on 2026-10-31)" in by_rule["ecs-rightsize"].reason
    assert "expired" not in by_rule["ecs-fargate-spot"].reason


def test_skipped_rows_are_suppressed_too():
    _, skipped = run(snapshot(ec2_tags={"rightsizer:ignore": "true"}))
    legacy = [row for row in skipped if row.name == "legacy"]
    assert {row.rule for row in legacy} == {"ecs-rightsize", "ecs-fargate-spot",
                                            "ecs-underprovisioned", "graviton-migration"}
    assert {row.reason for row in legacy} == {"suppressed"}


def test_tag_value_that_is_not_a_list_of_rule_ids_suppresses_every_rule():
    # a typo in a rule id must not silently un-suppress: free text silences everything
    findings, skipped = run(snapshot({"rightsizer:ignore": "ecs-spot"}))
    assert findings == []
    assert suppressed(skipped)["ecs-rightsize"] == "tag rightsizer:ignore='ecs-spot'"
