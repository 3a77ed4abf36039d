"""cloudfront-idle: enabled CloudFront distributions that served no request over the window."""

from __future__ import annotations

import shlex
from collections import Counter
from datetime import datetime
from typing import Any

import pandas as pd

from rightsizer.pricing import basis, bill_lines
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "cloudfront-idle"
NAMESPACE, METRIC = "AWS/CloudFront", "Requests"
METRIC_REGION = "us-east-1"  # collect/collectors/cloudfront.py: where CloudFront's series live
DEDICATED_IP = "vip"  # ViewerCertificate.SSLSupportMethod of dedicated-IP custom SSL


class Settings(RuleSettings):
    pass


def _modified(value: Any) -> datetime | None:
    stamp = pd.to_datetime(str(value or ""), utc=True, errors="coerce")
    return None if pd.isna(stamp) else stamp.to_pydatetime()


def _requests(snapshot: Snapshot, account: str, distribution_id: str) -> float:
    # Requests is a Sum over the hour; an hour without a datapoint served nothing.
    series = snapshot.series(account, METRIC_REGION, NAMESPACE, METRIC, distribution_id, "Sum")
    return float(series.fillna(0).sum()) if len(series) else 0.0


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    rows = records(snapshot.table("cloudfront_distributions"))
    # A dedicated-IP certificate's fee is per certificate, however many distributions use it.
    certificate_users = Counter(str(row.get("certificate") or "") for row in rows
                                if row.get("enabled")
                                and row.get("ssl_support_method") == DEDICATED_IP)
    for row in rows:
        aliases = decode_json_cell(row.get("aliases"), [])
        name = str(aliases[0]) if aliases else str(row.get("domain_name") or
                                                     row["distribution_id"])
        resource = Resource("cloudfront-distribution", str(row["arn"]), name,
                            str(row["account"]), str(row["region"]))
        if not row.get("enabled"):
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                "disabled: a disabled distribution serves nothing and bills nothing"))
            continue
        modified = _modified(row.get("last_modified"))
        if modified is None or modified > snapshot.window_start:
            when = "unknown" if modified is None else modified.date().isoformat()
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                f"last modified {when}, not before the window: it may be newer than the "
                "window, so no requests is no evidence yet"))
            continue
        failure = snapshot.read_failure("cloudwatch", "GetMetricData", resource.account,
                                        METRIC_REGION)
        if failure is not None:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                f"{METRIC} could not be read in {METRIC_REGION} ({failure}): traffic unknown"))
            continue
        requests = _requests(snapshot, resource.account, str(row["distribution_id"]))
        if requests > 0:
            continue
        result.findings.append(_finding(snapshot, row, resource, certificate_users))
    return result


def _finding(snapshot: Snapshot, row: dict[str, Any], resource: Resource,
             certificate_users: Counter[str]) -> Finding:
    days = snapshot.manifest["window"]["days"]
    dedicated = row.get("ssl_support_method") == DEDICATED_IP
    certificate = str(row.get("certificate") or "")
    fee = bill_lines.dedicated_ip_certificate_month_usd()
    alone = dedicated and certificate_users[certificate] <= 1
    monthly = fee.usd if alone else 0.0
    if alone:
        cost = (f"its dedicated-IP certificate, used by no other distribution, bills "
                f"${fee.usd:,.0f}/month")
    elif dedicated:
        cost = ("its dedicated-IP certificate also serves other distributions, so its fee "
                "stays; idle, the distribution itself bills nothing")
    else:
        cost = ("on pay-as-you-go an idle distribution bills nothing: deleting it removes an "
                "unused public entry point to its origins, not a charge")
    web_acl = str(row.get("web_acl_id") or "")
    extra = ("; its web ACL bills under AWS WAF, not counted here" if web_acl else "")
    reason = f"enabled, and no request in {days} days; {cost}{extra}"
    evidence = {
        "requests_sum": 0.0,
        "traffic_metric": f"{NAMESPACE} {METRIC} Sum (us-east-1, Region=Global)",
        "window_days": days,
        "domain_name": row.get("domain_name") or None,
        "aliases": decode_json_cell(row.get("aliases"), []),
        "comment": row.get("comment") or None,
        "ssl_support_method": row.get("ssl_support_method") or None,
        "dedicated_ip_certificate_shared": bool(dedicated and not alone),
        "web_acl_id": web_acl or None,
        "price_source": fee.source,
        "price_as_of": fee.as_of,
    }
    return finding_for(
        resource, RULE_ID,
        current={"enabled": True, "requests": 0},
        recommended={"action": "disable, then delete"},
        monthly_cost_usd=monthly,
        monthly_savings_usd=monthly,
        pricing=basis(fee),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    distribution_id = shlex.quote(finding.resource_id.rsplit("/", 1)[-1])
    # DeleteDistribution needs the distribution disabled and deployed, and the current ETag
    # as If-Match; UpdateDistribution takes the whole DistributionConfig back with its ETag.
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html
    lines = [
        f"aws cloudfront get-distribution-config --id {distribution_id} > distribution.json",
        "etag=$(jq -r .ETag distribution.json)",
        "jq '.DistributionConfig | .Enabled = false' distribution.json > disabled.json",
        f"aws cloudfront update-distribution --id {distribution_id} --if-match \"$etag\" "
        "--distribution-config file://disabled.json > /dev/null",
        f"aws cloudfront wait distribution-deployed --id {distribution_id}",
        f"etag=$(aws cloudfront get-distribution --id {distribution_id} --query ETag "
        "--output text)",
        f"aws cloudfront delete-distribution --id {distribution_id} --if-match \"$etag\"",
    ]
    return {
        "cli": "\n".join(lines),
        "terraform": (
            "# Set enabled = false on the aws_cloudfront_distribution and apply, then remove\n"
            "# the resource and apply again.\n"
            "enabled = false"
        ),
        "cdk": (
            "// Set enabled: false on the cloudfront.Distribution and deploy, then remove the\n"
            "// construct and deploy again.\nenabled: false,"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Delete CloudFront distributions nobody requests",
    why=(
        "A CloudFront distribution left enabled after a site moved keeps its origins reachable "
        "under another name. On pay-as-you-go an idle distribution bills nothing, except a "
        "dedicated-IP custom SSL certificate, which bills a monthly fee whatever the traffic. "
        "No request over the whole window means nobody uses it: disable it, then delete it."
    ),
    resource_type="cloudfront-distribution",
    bill_services=("Amazon CloudFront",),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("cloudfront-distribution", NAMESPACE, METRIC, ("Sum",),
                   where=lambda row: bool(row.get("enabled"))),
    ),
)
