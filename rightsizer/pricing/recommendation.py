"""AWS's own reservation purchase recommendation beside each reservation finding.

Cost Explorer's GetReservationPurchaseRecommendation (1-year, No Upfront, 60-day lookback; the
collector asks it for the services the inventory runs) answers per instance type and deployment
with its estimated monthly saving; the finding shows it, and why rightsizer's figure differs.
Shape: https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ReservationPurchaseRecommendationDetail.html
"""

from __future__ import annotations

import json
from typing import Any

from rightsizer.pricing.account import number
from rightsizer.pricing.basis import PriceBasis

# Cost Explorer names regions by their long name in InstanceDetails (the billing-codes page
# lists both): https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html
REGION_NAMES = {
    "US East (N. Virginia)": "us-east-1", "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1", "US West (Oregon)": "us-west-2",
    "Asia Pacific (Mumbai)": "ap-south-1", "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2", "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Seoul)": "ap-northeast-2", "Asia Pacific (Hyderabad)": "ap-south-2",
}
RULE_DETAILS = {"rds-reserved-instance": ("RDSInstanceDetails", "InstanceType"),
                "elasticache-reserved-node": ("ElastiCacheInstanceDetails", "NodeType")}
CLOSE = 0.05  # within 5%: the two figures agree


def recommendation_details(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every RecommendationDetails entry of the snapshot's recommendation pages, with the
    account that asked, its recommendation's TermInYears and PaymentOption and the page's
    Metadata (GenerationTimestamp, RecommendationId) under "_" keys ("" where absent)."""
    details: list[dict[str, Any]] = []
    for row in rows:
        if row.get("kind") != "recommendation":
            continue
        try:
            page = json.loads(row["data"]) if isinstance(row.get("data"), str) else row["data"]
        except (KeyError, ValueError, TypeError):
            continue
        if not isinstance(page, dict):
            continue
        metadata = page.get("Metadata") if isinstance(page.get("Metadata"), dict) else {}
        for recommendation in page.get("Recommendations", []) or []:
            if not isinstance(recommendation, dict):
                continue
            context = {"_account": str(row.get("account", "")),
                       "_term": str(recommendation.get("TermInYears") or ""),
                       "_payment": str(recommendation.get("PaymentOption") or ""),
                       "_generated": str(metadata.get("GenerationTimestamp") or ""),
                       "_recommendation_id": str(metadata.get("RecommendationId") or "")}
            for detail in recommendation.get("RecommendationDetails", []) or []:
                if isinstance(detail, dict):
                    details.append({**detail, **context})
    return details


def instance_details(detail: dict[str, Any], section: str) -> dict[str, Any]:
    """The detail's InstanceDetails section ({} when absent or not an object)."""
    details = detail.get("InstanceDetails")
    instance = details.get(section) if isinstance(details, dict) else None
    return instance if isinstance(instance, dict) else {}


def matches(detail: dict[str, Any], finding: Any, section: str, type_key: str) -> bool:
    """The detail is for the finding's class or node type, region and account (and, for RDS,
    its deployment where the detail names one)."""
    instance = instance_details(detail, section)
    if str(instance.get(type_key, "")).lower() != str(
            finding.current.get("instance_class") or finding.current.get("node_type") or
            "").lower():
        return False
    region = str(instance.get("Region", ""))
    if REGION_NAMES.get(region, region) != finding.region:
        return False
    account = str(detail.get("AccountId") or detail["_account"])
    if account != finding.account:
        return False
    if section == "RDSInstanceDetails" and "multi_az" in finding.current:
        wanted = "Multi-AZ" if finding.current["multi_az"] else "Single-AZ"
        return instance.get("DeploymentOption", wanted) == wanted
    return True


def attach(findings: list[Any], rows: list[dict[str, Any]]) -> None:
    """Put AWS's recommendation on each reservation finding it covers (pricing.notes and
    pricing.aws_recommendation)."""
    details = recommendation_details(rows)
    if not details:
        return
    for finding in findings:
        spec = RULE_DETAILS.get(finding.rule)
        if spec is None or not isinstance(finding.pricing, PriceBasis):
            continue
        found = next((d for d in details if matches(d, finding, *spec)), None)
        if found is None:
            continue
        saving = number(found.get("EstimatedMonthlySavingsAmount"))
        count = number(found.get("RecommendedNumberOfInstancesToPurchase"))
        utilization = number(found.get("AverageUtilization"))
        ours = finding.monthly_savings_usd
        if saving is None:
            continue
        why = ""
        if abs(saving - ours) > CLOSE * max(abs(saving), abs(ours), 0.01):
            used = f" (average utilization {utilization:g}%)" if utilization is not None else ""
            sized = f"{count:g} reservation(s)" if count is not None else "its reservations"
            why = (f"AWS sizes {sized} on 60 days of this account's usage{used} for every "
                   "instance of the type; rightsizer prices this one instance's uncovered "
                   f"hours for 730 h at {finding.pricing.basis} rates")
        finding.pricing.aws_recommendation = {
            "estimated_monthly_savings_usd": round(saving, 2),
            "recommended_instances": count,
            "estimated_savings_percent": number(found.get("EstimatedMonthlySavingsPercentage")),
            "upfront_usd": number(found.get("UpfrontCost")),
            "recurring_monthly_usd": number(found.get("RecurringStandardMonthlyCost")),
            **({"why_ours_differs": why} if why else {}),
        }
