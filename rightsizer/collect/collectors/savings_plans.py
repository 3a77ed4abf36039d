"""Savings Plans reads for the compute-savings-plan rule: the hourly on-demand Fargate and
Lambda spend (Cost Explorer GetCostAndUsage, HOURLY), the existing plans' coverage and
utilization, AWS's own purchase recommendation, and the Compute Savings Plans offering rates.

Cost Explorer bills $0.01 a request (https://aws.amazon.com/aws-cost-management/pricing/): every
answer is cached for the month with costs.py's MonthlyCache, as the other Cost Explorer reads.
The engine drives this collector beside the reservation reads (collect/engine.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    error_code,
    recorded_failure,
    to_json,
)
from rightsizer.collect.collectors.costs import MonthlyCache, _pages, month_start
from rightsizer.collect.spec import CollectorSpec, same_name, schema

SERVICE = "ce"
# Cost Explorer keeps hourly data for the last 14 days only, and only where hourly granularity
# is enabled in its preferences ("Hourly granularity ... for the past 14 days",
# https://docs.aws.amazon.com/cost-management/latest/userguide/ce-granularity.html)
HOURLY_DAYS = 14
COMPUTE_SERVICES = ("Amazon Elastic Container Service", "AWS Lambda")
SAVINGS_PLANS_REGION = "us-east-1"  # the Savings Plans API has one endpoint
# Answers that mean "nothing to say", cached like any answer: no plans held, hourly data off.
NO_DATA = frozenset({"DataUnavailableException"})
UNAVAILABLE = "HourlyGranularityUnavailable"  # the cached answer of a refused hourly request


def _hourly_period(now: datetime) -> dict[str, str]:
    # whole days up to today 00:00 UTC: the same request (one cache entry) all day
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=HOURLY_DAYS)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {"Start": start.strftime(stamp), "End": end.strftime(stamp)}


def _requests(today: date, now: datetime) -> list[tuple[str, str, str, dict[str, Any]]]:
    days = {"Start": (today - timedelta(days=30)).isoformat(), "End": today.isoformat()}
    months = {"Start": month_start(today, 1).isoformat(), "End": month_start(today).isoformat()}
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
    # RECORD_TYPE "Usage" is usage billed at on-demand rates: usage a Savings Plan covered is
    # "SavingsPlanCoveredUsage" (ce-filtering.html "Charge type")
    hourly = {
        "TimePeriod": _hourly_period(now), "Granularity": "HOURLY",
        "Metrics": ["UnblendedCost"],
        "Filter": {"And": [
            {"Dimensions": {"Key": "SERVICE", "Values": list(COMPUTE_SERVICES)}},
            {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}}]},
        "GroupBy": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
    }
    requests = [
        ("hourly_spend", "GetCostAndUsage", "get_cost_and_usage", hourly),
        # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetSavingsPlansCoverage.html
        ("coverage", "GetSavingsPlansCoverage", "get_savings_plans_coverage",
         {"TimePeriod": days, "Granularity": "DAILY"}),
        # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetSavingsPlansUtilization.html
        ("utilization", "GetSavingsPlansUtilization", "get_savings_plans_utilization",
         {"TimePeriod": months, "Granularity": "MONTHLY"}),
    ]
    for term in ("ONE_YEAR", "THREE_YEARS"):
        # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetSavingsPlansPurchaseRecommendation.html
        requests.append(("recommendation", "GetSavingsPlansPurchaseRecommendation",
                         "get_savings_plans_purchase_recommendation",
                         {"SavingsPlansType": "COMPUTE_SP", "TermInYears": term,
                          "PaymentOption": "NO_UPFRONT", "LookbackPeriodInDays": "THIRTY_DAYS"}))
    return requests


def _token_field(method: str) -> str:
    return "NextToken" if method in ("get_savings_plans_coverage",
                                     "get_savings_plans_utilization") else "NextPageToken"


def collect_savings_plans(target: Target, errors: ErrorLog, now: datetime, regions: list[str],
                          *, cache: MonthlyCache | None = None) -> list[dict[str, Any]]:
    """One row a Cost Explorer answer page (kind, data as JSON), and one a page of offering
    rates for the run's regions. A failed read is an error row; the rest go on."""
    today = now.date()
    cache = cache or MonthlyCache(None, today)
    rows: list[dict[str, Any]] = []
    for kind, operation, method, params in _requests(today, now):
        with recorded_failure(errors, target.account, "global", SERVICE, operation):
            rows.extend(_answer(target, cache, kind, operation, method, params))
    rows.extend(_offering_rates(target, errors, regions))
    return rows


def _answer(target: Target, cache: MonthlyCache, kind: str, operation: str, method: str,
            params: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        pages = _pages(target, cache, operation, method, params, _token_field(method))
    except ClientError as exc:
        if error_code(exc) in NO_DATA:
            cache.put(target.account, operation, params, [])
            return []
        if kind != "hourly_spend" or error_code(exc) != "ValidationException":
            raise
        # hourly granularity not enabled: an answer (cached), the rule estimates instead
        pages = [{UNAVAILABLE: str(exc)}]
        cache.put(target.account, operation, params, pages)
    if pages and UNAVAILABLE in pages[0]:
        return [{"account": target.account, "kind": "hourly_unavailable",
                 "data": to_json({"message": pages[0][UNAVAILABLE]})}]
    return [{"account": target.account, "kind": kind, "data": to_json(page)}
            for page in pages]


def _offering_rates(target: Target, errors: ErrorLog, regions: list[str]
                    ) -> list[dict[str, Any]]:
    """Compute Savings Plans No Upfront rates for Fargate in the run's regions
    (https://docs.aws.amazon.com/savingsplans/latest/APIReference/API_DescribeSavingsPlansOfferingRates.html);
    a read-only price list, free of charge."""
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, "global", "savingsplans",
                          "DescribeSavingsPlansOfferingRates"):
        client = target.client("savingsplans", SAVINGS_PLANS_REGION)
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "savingsPlanTypes": ["Compute"], "savingsPlanPaymentOptions": ["No Upfront"],
                "products": ["Fargate"], "serviceCodes": ["AmazonECS"],
                "filters": [{"name": "region", "values": list(regions)}], "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = client.describe_savings_plans_offering_rates(**kwargs)
            page.pop("ResponseMetadata", None)
            rows.append({"account": target.account, "kind": "offering_rates",
                         "data": to_json(page)})
            token = page.get("nextToken")
            if not token:
                break
    return rows


SPECS = (
    CollectorSpec(
        table="sp_insights", label="savings plans (cost explorer)",
        schema=schema("account", "kind", "data"),
        operations={
            **same_name("ce:GetSavingsPlansCoverage", "ce:GetSavingsPlansUtilization",
                        "ce:GetSavingsPlansPurchaseRecommendation"),
            "savingsplans:DescribeSavingsPlansOfferingRates":
                "savingsplans:DescribeSavingsPlansOfferingRates",
        }),
)
