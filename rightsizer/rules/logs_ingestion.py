"""logs-ingestion: the log groups that ingest the most, with what their ingestion costs."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.pricing import bill_lines
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, records

RULE_ID = "logs-ingestion"
GB = 1024**3  # as logs-retention counts stored GB
NAMESPACE, METRIC = "AWS/Logs", "IncomingBytes"
CHEAPER_CLASS = "INFREQUENT_ACCESS"


class Settings(RuleSettings):
    top: int = Field(5, ge=1, le=1000,
                     description="How many of the largest log groups by ingested bytes to list.")
    min_monthly_usd: float = Field(
        1.0, ge=0,
        description="A log group whose ingestion costs less than this a month is not listed.")


def _ingested(snapshot: Snapshot, row: dict[str, Any]) -> float:
    # IncomingBytes is a Sum a period; a period without a datapoint ingested nothing.
    series = snapshot.series(str(row["account"]), str(row["region"]), NAMESPACE, METRIC,
                             str(row["log_group"]), "Sum")
    return float(series.fillna(0).sum()) if len(series) else 0.0


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    window_hours = max(1.0, (snapshot.window_end - snapshot.window_start).total_seconds() / 3600)
    per_month = pricing.HOURS_PER_MONTH / window_hours
    costed: list[tuple[float, Resource, dict[str, Any]]] = []
    for row in records(snapshot.table("log_groups")):
        resource = Resource("log-group", str(row["arn"]), str(row["log_group"]),
                            str(row["account"]), str(row["region"]))
        failure = snapshot.read_failure("cloudwatch", "GetMetricData", resource.account,
                                        resource.region)
        if failure is not None:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                f"{METRIC} could not be read ({failure}): ingestion unknown"))
            continue
        ingested = _ingested(snapshot, row)
        if ingested <= 0:
            continue  # ingests nothing: costs nothing to ingest
        log_class = str(row.get("log_group_class") or "STANDARD").upper()
        price = bill_lines.logs_ingestion_gb_usd(resource.region, log_class)
        if price is None:
            result.skipped.append(unpriced(resource, RULE_ID,
                                           f"CloudWatch Logs ingestion ({log_class})"))
            continue
        monthly_gb = ingested / GB * per_month
        monthly = monthly_gb * price.usd
        costed.append((monthly, resource, {"row": row, "price": price, "class": log_class,
                                           "ingested": ingested, "monthly_gb": monthly_gb}))
    costed.sort(key=lambda item: (-item[0], item[1].resource_id))
    listed = [item for item in costed if item[0] >= settings.min_monthly_usd][:settings.top]
    for rank, (monthly, resource, found) in enumerate(listed, start=1):
        result.findings.append(_finding(snapshot, resource, monthly, rank, found))
    return result


def _finding(snapshot: Snapshot, resource: Resource, monthly: float, rank: int,
             found: dict[str, Any]) -> Finding:
    days = snapshot.manifest["window"]["days"]
    price: pricing.Price = found["price"]
    log_class, monthly_gb = found["class"], found["monthly_gb"]
    cheaper = (bill_lines.logs_ingestion_gb_usd(resource.region, CHEAPER_CLASS)
               if log_class != CHEAPER_CLASS else None)
    savings = monthly_gb * (price.usd - cheaper.usd) if cheaper is not None else 0.0
    if cheaper is not None:
        outcome = (f"in an {CHEAPER_CLASS} log group it would cost "
                   f"${monthly_gb * cheaper.usd:,.2f}; logging less saves more")
        recommended = {"action": "log less, or send it to an Infrequent Access log group",
                       "log_group_class": CHEAPER_CLASS}
    else:
        outcome = "it is already in the cheaper class: only logging less lowers it"
        recommended = {"action": "log less (log level, sampling, dropped fields)"}
    reason = (f"#{rank} by ingestion: {monthly_gb:,.2f} GB a month "
              f"({found['ingested'] / GB:,.2f} GB in {days} days) costs ${monthly:,.2f}/month "
              f"to ingest at ${price.usd:.4g}/GB; {outcome}")
    evidence = {
        "rank": rank,
        "incoming_bytes_window": int(found["ingested"]),
        "window_days": days,
        "monthly_gb": round(monthly_gb, 3),
        "log_group_class": log_class,
        "ingestion_gb_usd": price.usd,
        "cheaper_class_gb_usd": None if cheaper is None else cheaper.usd,
        "traffic_metric": f"{NAMESPACE} {METRIC} Sum",
        "assumption": "the window's ingestion rate holds for the month (x 730 h / window "
        "hours); IncomingBytes counts uncompressed bytes, so the figure is an estimate of "
        "the ingestion charge",
        "caveat": "an Infrequent Access log group cannot take metric filters, subscription "
        "filters or Live Tail; a log group's class cannot change after creation",
        "price_source": price.source,
        "price_as_of": price.as_of,
    }
    return finding_for(
        resource, RULE_ID,
        current={"log_group_class": log_class, "monthly_gb": round(monthly_gb, 3)},
        recommended=recommended,
        monthly_cost_usd=monthly,
        monthly_savings_usd=savings,
        pricing=pricing.basis(price, recommended=(cheaper,) if cheaper is not None else None),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    name, region = finding.name, shlex.quote(finding.region)
    lines = [
        "# What fills it: the streams that received events most recently.",
        f"aws logs describe-log-streams --log-group-name {shlex.quote(name)} --region {region} "
        "--order-by LastEventTime --descending --max-items 5 "
        "--query 'logStreams[].[logStreamName,lastEventTimestamp]' --output text",
    ]
    if finding.recommended.get("log_group_class") == CHEAPER_CLASS:
        lines += [
            "# A new Infrequent Access group to send it to (then point the writer at it):",
            f"aws logs create-log-group --log-group-name {shlex.quote(name + '-ia')} "
            f"--log-group-class {CHEAPER_CLASS} --region {region}",
        ]
    return {
        "cli": "\n".join(lines),
        "terraform": (
            "# Lower the writer's log level or sample its logs; for logs read only now and\n"
            "# then, a new aws_cloudwatch_log_group with log_group_class = \"INFREQUENT_ACCESS\""
        ),
        "cdk": ("// Lower the writer's log level; or a new logs.LogGroup with\n"
                "// logGroupClass: logs.LogGroupClass.INFREQUENT_ACCESS"),
    }


RULE = Rule(
    id=RULE_ID,
    title="The log groups that cost the most to ingest",
    why=(
        "CloudWatch Logs bills every gigabyte a log group ingests, and ingestion is usually "
        "most of the Logs bill, far more than storage. The few groups that ingest the most "
        "are where logging less (a debug level left on, every request logged) pays back, or "
        "where logs read only now and then can go to an Infrequent Access log group at half "
        "the ingestion price."
    ),
    resource_type="log-group",
    bill_services=("AmazonCloudWatch",),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(MetricNeed("log-group", NAMESPACE, METRIC, ("Sum",)),),
)
