"""secrets-unused: secrets not read for `unused_days` by LastAccessedDate.

ListSecrets' LastAccessedDate is "the date that the secret was last accessed in the Region",
omitted "if the secret has never been retrieved in the Region", truncated to midnight
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_SecretListEntry.html).
Each secret bills $0.40 a month, each replica as a distinct secret
(https://aws.amazon.com/secrets-manager/pricing/).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from rightsizer.rules.secrets_unused import RULE, Settings, evaluate, how_to_apply
from tests.snapshot_factory import ACCOUNT, REGION, WINDOW_END, SnapshotBuilder


def add_secret(snap: SnapshotBuilder, name: str, *, accessed_days_ago: int | None,
               created_days_ago: int | None = 400, rotation: bool = False,
               replicas: tuple[str, ...] = (), primary_region: str = "",
               owning_service: str = "", region: str = REGION) -> str:
    arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-AbCdEf"

    def day(days: int | None) -> str:
        if days is None:
            return ""
        moment = (WINDOW_END - timedelta(days=days)).replace(hour=0)  # truncated to midnight
        return str(moment)

    snap.rows["secrets"].append({
        "account": ACCOUNT, "region": region, "arn": arn, "name": name,
        "created_at": day(created_days_ago) if created_days_ago is not None else "",
        "last_accessed": day(accessed_days_ago), "last_changed": "",
        "rotation_enabled": rotation, "rotation_days": 30 if rotation else 0,
        "replica_regions": json.dumps(list(replicas)), "primary_region": primary_region,
        "owning_service": owning_service, "deleted_at": "", "tags": "{}",
    })
    return arn


def test_secret_not_accessed_for_200_days_is_unused_at_40_cents():
    snap = SnapshotBuilder()
    add_secret(snap, "edufly/legacy-sms-key", accessed_days_ago=200)
    result = evaluate(snap.build(), Settings())
    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "secrets-unused" and finding.resource_type == "secret"
    assert finding.monthly_savings_usd == pytest.approx(0.40)
    assert finding.evidence["days_unused"] == 200
    assert "truncated to midnight" in finding.evidence["date_precision"]
    assert "last accessed" in finding.reason


def test_secret_accessed_yesterday_is_in_use():
    snap = SnapshotBuilder()
    add_secret(snap, "edufly/database-url", accessed_days_ago=1)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_accessed_exactly_unused_days_ago_is_still_in_use():
    snap = SnapshotBuilder()
    add_secret(snap, "edge", accessed_days_ago=90)
    assert evaluate(snap.build(), Settings()).findings == []
    add_secret(snap, "edge2", accessed_days_ago=91)
    assert [f.name for f in evaluate(snap.build(), Settings()).findings] == ["edge2"]


def test_never_accessed_old_secret_counts():
    snap = SnapshotBuilder()
    add_secret(snap, "old", accessed_days_ago=None, created_days_ago=365)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["never_accessed"] is True
    assert "never accessed" in finding.reason


def test_never_accessed_young_secret_is_skipped_with_reason():
    snap = SnapshotBuilder()
    add_secret(snap, "new", accessed_days_ago=None, created_days_ago=10)
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    [row] = result.skipped
    assert row.reason == "insufficient-data" and "created 10 days ago" in row.detail


def test_never_accessed_without_creation_date_is_skipped():
    snap = SnapshotBuilder()
    add_secret(snap, "unknown", accessed_days_ago=None, created_days_ago=None)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_unused_days_is_configurable():
    snap = SnapshotBuilder()
    add_secret(snap, "s", accessed_days_ago=45)
    assert evaluate(snap.build(), Settings()).findings == []
    assert len(evaluate(snap.build(), Settings(unused_days=30)).findings) == 1
    with pytest.raises(ValidationError):
        Settings(unused_days=0)


def test_rotation_and_replicas_are_noted_and_replicas_not_counted():
    snap = SnapshotBuilder()
    add_secret(snap, "s", accessed_days_ago=300, rotation=True,
               replicas=("ap-southeast-1", "us-east-1"))
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["rotation_enabled"] is True
    assert finding.evidence["replica_regions"] == ["ap-southeast-1", "us-east-1"]
    assert "2 replica(s)" in finding.reason and "rotation is on" in finding.reason
    assert finding.monthly_savings_usd == pytest.approx(0.40)
    cli = how_to_apply(finding)["cli"]
    assert "remove-regions-from-replication" in cli


def test_replica_is_judged_in_its_primary_region():
    snap = SnapshotBuilder()
    add_secret(snap, "s", accessed_days_ago=300, primary_region="us-east-1")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and "us-east-1" in row.detail


def test_secret_managed_by_another_service_is_not_flagged():
    snap = SnapshotBuilder()
    add_secret(snap, "rds!db-1234", accessed_days_ago=300, owning_service="rds")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and "managed by rds" in row.detail


def test_region_without_price_is_skipped_not_guessed():
    snap = SnapshotBuilder()
    add_secret(snap, "s", accessed_days_ago=300, region="me-south-1")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.detail == "no price for Secrets Manager secrets in me-south-1"


def test_how_to_apply_schedules_a_recoverable_deletion():
    snap = SnapshotBuilder()
    add_secret(snap, "edufly/legacy", accessed_days_ago=200)
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    cli = steps["cli"]
    assert cli.index("describe-secret") < cli.index("delete-secret")
    assert "--recovery-window-in-days 30" in cli and "restore-secret" in cli
    assert "get-secret-value" not in cli
    assert f"--region {REGION}" in cli.splitlines()[-1]
    assert "recovery_window_in_days = 30" in steps["terraform"]
    assert "RemovalPolicy.DESTROY" in steps["cdk"]
    assert RULE.id == "secrets-unused"
