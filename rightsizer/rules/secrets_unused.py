"""secrets-unused: Secrets Manager secrets nobody has read for months."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "secrets-unused"
# DeleteSecret's RecoveryWindowInDays: 7 to 30, default 30; the secret can be restored
# (RestoreSecret) until the window ends.
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
RECOVERY_WINDOW_DAYS = 30


class Settings(RuleSettings):
    unused_days: int = Field(
        90, ge=1, le=3650,
        description="A secret is unused when its LastAccessedDate (a date, truncated to "
        "midnight) is more than this many days before the window end; a never-accessed "
        "secret counts once it is older than this.",
    )


def _moment(value: Any) -> datetime | None:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return stamp.to_pydatetime().astimezone(UTC)


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    end = snapshot.window_end
    for row in records(snapshot.table("secrets")):
        resource = Resource("secret", str(row["arn"]), str(row["name"]), str(row["account"]),
                            str(row["region"]))
        if row.get("deleted_at"):
            continue  # already scheduled for deletion
        owner = str(row.get("owning_service") or "")
        if owner:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"managed by {owner}: it is deleted through that service, not on its own"))
            continue
        primary = str(row.get("primary_region") or "")
        if primary and primary != resource.region:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"a replica of a secret in {primary}: judged there, removed with "
                "remove-regions-from-replication"))
            continue
        accessed = _moment(row.get("last_accessed"))
        created = _moment(row.get("created_at"))
        if accessed is not None:
            # The date is truncated to midnight: the read may have come any time that day.
            idle_days = (end.date() - accessed.date()).days
            if idle_days <= settings.unused_days:
                continue  # read recently: in use
        else:
            if created is None:
                result.skipped.append(skipped_for(
                    resource, RULE_ID, "insufficient-data",
                    "never accessed and its creation date is unknown"))
                continue
            idle_days = (end.date() - created.date()).days
            if idle_days <= settings.unused_days:
                result.skipped.append(skipped_for(
                    resource, RULE_ID, "insufficient-data",
                    f"never accessed, but created {idle_days} days ago: younger than "
                    f"{settings.unused_days} days, too new to call unused"))
                continue
        price = pricing.secret_month_usd(resource.region)
        if price is None:
            result.skipped.append(unpriced(resource, RULE_ID, "Secrets Manager secrets"))
            continue
        result.findings.append(_finding(row, resource, settings, accessed, created, idle_days,
                                        price))
    return result


def _finding(row: dict[str, Any], resource: Resource, settings: Settings,
             accessed: datetime | None, created: datetime | None, idle_days: int,
             price: pricing.Price) -> Finding:
    replicas = [str(region) for region in decode_json_cell(row.get("replica_regions"), [])]
    rotation = bool(row.get("rotation_enabled"))
    if accessed is None:
        what = f"never accessed in {resource.region} since it was created {idle_days} days ago"
    else:
        what = f"last accessed {accessed.date().isoformat()}, {idle_days} days ago"
    notes = []
    if replicas:
        notes.append(f"it has {len(replicas)} replica(s) ({', '.join(replicas)}), each billed "
                     f"${price.usd:.2f}/month and read in its own Region: not counted here")
    if rotation:
        notes.append("rotation is on (its Lambda's runs stop with the secret)")
    reason = (f"secret {what}; it bills ${price.usd:.2f}/month"
              + (f"; {'; '.join(notes)}" if notes else ""))
    evidence: dict[str, Any] = {
        "last_accessed_date": None if accessed is None else accessed.date().isoformat(),
        "never_accessed": accessed is None,
        "created_at": None if created is None else created.isoformat(),
        "days_unused": idle_days,
        "unused_days_setting": settings.unused_days,
        "date_precision": "LastAccessedDate is a date (truncated to midnight): days_unused "
        "counts whole days and may be one day more than the true gap",
        "rotation_enabled": rotation,
        "rotation_days": int(row.get("rotation_days") or 0) or None,
        "replica_regions": replicas,
        "replica_note": "a replica is billed as a distinct secret; a primary with replicas "
        "cannot be deleted until its replicas are removed" if replicas else None,
        "secret_month_usd": price.usd,
        "price_source": price.source,
        "price_as_of": price.as_of,
        "recovery_window_days": RECOVERY_WINDOW_DAYS,
    }
    return finding_for(
        resource, RULE_ID,
        current={"last_accessed": evidence["last_accessed_date"], "days_unused": idle_days},
        recommended={"action": "delete",
                     "recovery_window_days": RECOVERY_WINDOW_DAYS},
        monthly_cost_usd=price.usd,
        monthly_savings_usd=price.usd,
        pricing=pricing.basis(price),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    arn, region = shlex.quote(finding.resource_id), shlex.quote(finding.region)
    days = finding.recommended.get("recovery_window_days", RECOVERY_WINDOW_DAYS)
    replicas = finding.evidence.get("replica_regions") or []
    lines = [
        "# Read-only check first (metadata only, never the value): last access, replicas.",
        f"aws secretsmanager describe-secret --secret-id {arn} --region {region} "
        "--query '{LastAccessed: LastAccessedDate, Replicas: ReplicationStatus[].Region}'",
    ]
    if replicas:
        lines += [
            "# A primary secret with replicas cannot be deleted: remove the replicas first.",
            f"# aws secretsmanager remove-regions-from-replication --secret-id {arn} "
            f"--remove-replica-regions {' '.join(shlex.quote(r) for r in replicas)} "
            f"--region {region}",
        ]
    lines += [
        f"# Scheduled deletion: recoverable for {days} days with "
        f"`aws secretsmanager restore-secret --secret-id {arn} --region {region}`; "
        "deleted for good after that.",
        f"aws secretsmanager delete-secret --secret-id {arn} --recovery-window-in-days {days} "
        f"--region {region}",
    ]
    return {
        "cli": "\n".join(lines),
        "terraform": (
            "# Remove the aws_secretsmanager_secret (and its aws_secretsmanager_secret_version)\n"
            "# and apply; Terraform schedules the deletion with this recovery window.\n"
            f"# secret: {json.dumps(finding.name)}\n"
            f"recovery_window_in_days = {days}"
        ),
        "cdk": (
            "// Remove the secretsmanager.Secret construct and deploy: the default\n"
            "// removalPolicy RETAIN keeps the secret, so set it to DESTROY first (CloudFormation\n"
            "// then schedules the deletion with its default recovery window).\n"
            "removalPolicy: RemovalPolicy.DESTROY,"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Delete Secrets Manager secrets nobody reads",
    why=(
        "Every secret bills a monthly fee whether or not anything reads it, and each replica "
        "bills as a secret of its own. A secret not accessed for months usually belongs to a "
        "retired service or an old integration. Deletion is scheduled with a recovery window, "
        "so a secret deleted by mistake can be restored."
    ),
    resource_type="secret",
    bill_services=('AWS Secrets Manager',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
