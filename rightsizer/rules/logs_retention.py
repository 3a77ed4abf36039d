"""logs-retention: CloudWatch log groups that keep every event forever."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, field_validator

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, records

RULE_ID = "logs-retention"
GB = 1024**3
# The only values PutRetentionPolicy accepts (retentionInDays). Source:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
ALLOWED_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                          1827, 2192, 2557, 2922, 3288, 3653)
# Storage prices in the table are for the STANDARD class; other classes are not tabled.
PRICED_CLASSES = {"STANDARD"}


class Settings(RuleSettings):
    retention_days: int = Field(
        30, ge=1, le=3653,
        description="Retention to recommend, in days; one of CloudWatch Logs' allowed values "
        f"({', '.join(str(days) for days in ALLOWED_RETENTION_DAYS)}).",
    )

    @field_validator("retention_days")
    @classmethod
    def _allowed_by_cloudwatch(cls, value: int) -> int:
        if value not in ALLOWED_RETENTION_DAYS:
            raise ValueError(
                f"{value} is not a CloudWatch Logs retention; use one of "
                f"{', '.join(str(days) for days in ALLOWED_RETENTION_DAYS)}")
        return value


def _created_at(value: Any) -> datetime | None:
    """creationTime is milliseconds since the epoch, stored as text by the collector."""
    try:
        millis = int(float(str(value)))
    except (TypeError, ValueError):
        return None
    if millis <= 0:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def older_share(age_days: float, retention_days: int) -> float:
    """Share of stored data older than `retention_days`, assuming uniform ingestion since
    the group was created (a group younger than the retention has nothing to expire yet)."""
    if age_days <= retention_days:
        return 0.0
    return 1.0 - retention_days / age_days


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    creation: dict[Any, datetime | None] = {}  # each creation time text parsed once
    for row in records(snapshot.table("log_groups")):
        if int(row.get("retention_days") or 0) != 0:
            continue  # a retention is set: the group's data expires already
        stored_bytes = int(row.get("stored_bytes") or 0)
        if stored_bytes <= 0:
            continue  # nothing stored: nothing to save
        resource = Resource("log-group", str(row["arn"]), str(row["log_group"]),
                            str(row["account"]), str(row["region"]))
        log_class = str(row.get("log_group_class") or "STANDARD").upper()
        price = pricing.logs_storage_gb_month_usd(resource.region)
        if log_class not in PRICED_CLASSES or price is None:
            what = "CloudWatch Logs storage" + (
                f" ({log_class} class)" if log_class not in PRICED_CLASSES else "")
            result.skipped.append(unpriced(resource, RULE_ID, what))
            continue
        stamp = row.get("created_at")
        if stamp not in creation:
            creation[stamp] = _created_at(stamp)
        created = creation[stamp]
        if created is None:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                "creation time unknown: cannot estimate how much data is older than "
                f"{settings.retention_days} days"))
            continue
        result.findings.append(_finding(snapshot, settings, resource, stored_bytes, created,
                                        price))
    return result


def _finding(snapshot: Snapshot, settings: Settings, resource: Resource, stored_bytes: int,
             created: datetime, price: pricing.Price) -> Finding:
    stored_gb = stored_bytes / GB
    age_days = max(0.0, (snapshot.window_end - created).total_seconds() / 86400)
    share = older_share(age_days, settings.retention_days)
    monthly_cost = stored_gb * price.usd
    savings = monthly_cost * share
    if share:
        outcome = (f"about {share:.0%} of it ({stored_gb * share:,.2f} GB) is older than "
                   f"{settings.retention_days} days and would expire")
    else:
        outcome = (f"the group is {age_days:.0f} days old, so nothing would expire yet; the "
                   "retention stops the bill from growing")
    reason = (f"never expires: {stored_gb:,.2f} GB stored over {age_days:.0f} days costs "
              f"${monthly_cost:,.2f}/month; with {settings.retention_days}-day retention "
              f"{outcome}")
    evidence = {
        "retention_days": "never expire",
        "stored_bytes": stored_bytes,
        "stored_gb": round(stored_gb, 3),
        "created_at": created.isoformat(),
        "age_days": round(age_days, 1),
        "recommended_retention_days": settings.retention_days,
        "share_older_than_retention": round(share, 4),
        "price_gb_month_usd": price.usd,
        "price_source": price.source,
        "assumption": "uniform ingestion since creation_time: share older = "
        "1 - retention_days / age_days; storedBytes is the archived (compressed) size "
        "CloudWatch bills storage on",
    }
    return finding_for(
        resource, RULE_ID,
        current={"retention_days": None},
        recommended={"retention_days": settings.retention_days},
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=savings,
        pricing=pricing.basis(price),
        evidence=evidence,
        reason=reason,
    )


# CDK's logs.RetentionDays member for each retention CloudWatch Logs accepts.
CDK_RETENTION = dict(zip(ALLOWED_RETENTION_DAYS, (
    "ONE_DAY", "THREE_DAYS", "FIVE_DAYS", "ONE_WEEK", "TWO_WEEKS", "ONE_MONTH", "TWO_MONTHS",
    "THREE_MONTHS", "FOUR_MONTHS", "FIVE_MONTHS", "SIX_MONTHS", "ONE_YEAR", "THIRTEEN_MONTHS",
    "EIGHTEEN_MONTHS", "TWO_YEARS", "THREE_YEARS", "FIVE_YEARS", "SIX_YEARS", "SEVEN_YEARS",
    "EIGHT_YEARS", "NINE_YEARS", "TEN_YEARS"), strict=True))


def how_to_apply(finding: Finding) -> dict[str, str]:
    # PutRetentionPolicy "sets the retention of the specified log group": the group has one
    # retention setting, and the call replaces it; nothing else about the group changes
    # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
    days = finding.recommended["retention_days"]
    name = finding.name
    member = CDK_RETENTION.get(days)
    retention = f"logs.RetentionDays.{member}" if member else f"{days} as logs.RetentionDays"
    return {
        "cli": (
            f"aws logs put-retention-policy --region {shlex.quote(finding.region)} "
            f"--log-group-name {shlex.quote(name)} --retention-in-days {days}"
        ),
        "terraform": (
            "resource \"aws_cloudwatch_log_group\" \"this\" {\n"
            f"  name              = {json.dumps(name)}\n"
            f"  retention_in_days = {days}\n}}\n\n"
            "# a group Terraform does not manage yet (ECS or Lambda created it): import it first\n"
            f"import {{\n  to = aws_cloudwatch_log_group.this\n  id = {json.dumps(name)}\n}}"
        ),
        "cdk": (
            f"// a log group the stack defines:\nnew logs.LogGroup(this, 'LogGroup', {{\n"
            f"  logGroupName: {json.dumps(name)},\n  retention: {retention},\n}});\n"
            "// or a group created outside the stack (by ECS or Lambda):\n"
            f"new logs.LogRetention(this, 'LogRetention', {{\n  logGroupName: {json.dumps(name)},\n"
            f"  retention: {retention},\n}});"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Set a retention on log groups that never expire",
    why=(
        "A CloudWatch log group created without a retention keeps every event forever, and "
        "its storage is billed every month on everything it ever received. Application and "
        "access logs are rarely read after a few weeks: a retention deletes old events "
        "automatically and caps the storage bill. Export to S3 first anything that must be "
        "kept for audits."
    ),
    resource_type="log-group",
    bill_services=('AmazonCloudWatch',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
