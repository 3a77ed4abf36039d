"""The demo's Savings Plans answers (moto implements neither the Cost Explorer Savings Plans
reads nor the Savings Plans API). EduFly holds a 1-year Compute Savings Plan (demo/usage.py: it
covers 30% of last month's Fargate usage at 20% off), modelled as a fixed hourly commitment
that the steady night-time tasks already fill: the on-demand spend left is the API's
autoscaling over Indian school hours plus the rest above the commitment. The offering rates are
the embedded estimate's discounts on the embedded on-demand rates, shaped as AWS answers
them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rightsizer import pricing
from rightsizer.collect.collectors.savings_plans import HOURLY_DAYS
from rightsizer.demo.account import DEMO_REGION, IST, SERVICES
from rightsizer.demo.usage import SAVINGS_PLAN_COVERED_SHARE, SAVINGS_PLAN_DISCOUNT
from rightsizer.rules.support.savings_plans import embedded_discounts

USAGE_PREFIX = "APS3"  # the usage-type prefix of ap-south-1 (DEMO_REGION)
API_SCHOOL_HOURS_TASKS = 3  # the API's autoscaling adds a task from 09:00 to 17:00 IST on weekdays


def _tasks(role: str, desired: int, hour: datetime) -> int:
    local = hour + IST
    if role == "api" and local.weekday() < 5 and 9 <= local.hour < 17:
        return API_SCHOOL_HOURS_TASKS
    return desired


def _hours(now: datetime) -> list[tuple[datetime, float, float]]:
    """(hour, vCPU cost, GB cost) of every hour the collector asks for, at on-demand rates."""
    rates = pricing.fargate_platform_rates(DEMO_REGION)
    assert rates is not None
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)  # as the collector asks
    hours = []
    for index in range(HOURLY_DAYS * 24):
        start = end - timedelta(hours=HOURLY_DAYS * 24 - index)
        vcpu = sum(_tasks(s.role, s.desired, start) * s.cpu / 1024 for s in SERVICES)
        gb = sum(_tasks(s.role, s.desired, start) * s.memory / 1024 for s in SERVICES)
        hours.append((start, vcpu * rates.vcpu.usd, gb * rates.gb.usd))
    return hours


def _covered_hourly(hours: list[tuple[datetime, float, float]]) -> float:
    """The on-demand spend the plan covers each hour: its covered share of the average hour."""
    return SAVINGS_PLAN_COVERED_SHARE * sum(v + g for _, v, g in hours) / len(hours)


def hourly_costs(now: datetime) -> dict[str, Any]:
    """GetCostAndUsage HOURLY grouped by USAGE_TYPE, RECORD_TYPE Usage (the spend billed
    on-demand: what the plan did not cover), as Cost Explorer answers it
    (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html)."""
    hours = _hours(now)
    covered = _covered_hourly(hours)
    results = []
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    for start, vcpu, gb in hours:
        left = max(0.0, vcpu + gb - covered) / (vcpu + gb)
        results.append({
            "TimePeriod": {"Start": start.strftime(stamp),
                           "End": (start + timedelta(hours=1)).strftime(stamp)},
            "Total": {},
            "Groups": [
                {"Keys": [f"{USAGE_PREFIX}-Fargate-vCPU-Hours:perCPU"],
                 "Metrics": {"UnblendedCost": {"Amount": f"{vcpu * left:.10f}",
                                               "Unit": "USD"}}},
                {"Keys": [f"{USAGE_PREFIX}-Fargate-GB-Hours"],
                 "Metrics": {"UnblendedCost": {"Amount": f"{gb * left:.10f}",
                                               "Unit": "USD"}}},
            ],
            "Estimated": True,
        })
    return {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "ResultsByTime": results, "DimensionValueAttributes": []}


def coverage(now: datetime) -> dict[str, Any]:
    """Yesterday's spend, the plan's part covered (API_SavingsPlansCoverage.html)."""
    hours = _hours(now)
    covered_hourly = _covered_hourly(hours)
    day_hours = hours[-24:]
    covered = sum(min(v + g, covered_hourly) for _, v, g in day_hours)
    on_demand = sum(max(0.0, v + g - covered_hourly) for _, v, g in day_hours)
    day = now.date()
    return {"SavingsPlansCoverages": [{
        "Attributes": {},
        "Coverage": {"SpendCoveredBySavingsPlans": f"{covered:.4f}",
                     "OnDemandCost": f"{on_demand:.4f}",
                     "TotalCost": f"{covered + on_demand:.4f}",
                     "CoveragePercentage": f"{100 * covered / (covered + on_demand):.2f}"},
        "TimePeriod": {"Start": (day - timedelta(days=1)).isoformat(), "End": day.isoformat()},
    }]}


def utilization(now: datetime) -> dict[str, Any]:
    """Last month's plan: its commitment (the covered spend at the plan's discount) all used,
    as the steady tasks fill it every hour (API_GetSavingsPlansUtilization.html)."""
    covered = _covered_hourly(_hours(now)) * pricing.HOURS_PER_MONTH
    commitment = covered * (1 - SAVINGS_PLAN_DISCOUNT)
    saved = covered * SAVINGS_PLAN_DISCOUNT
    amount = f"{commitment:.2f}"
    return {"SavingsPlansUtilizationsByTime": [], "Total": {
        "Utilization": {"TotalCommitment": amount, "UsedCommitment": amount,
                        "UnusedCommitment": "0", "UtilizationPercentage": "100"},
        "Savings": {"NetSavings": f"{saved:.2f}",
                    "OnDemandCostEquivalent": f"{commitment + saved:.2f}"},
        "AmortizedCommitment": {"AmortizedRecurringCommitment": amount,
                                "AmortizedUpfrontCommitment": "0",
                                "TotalAmortizedCommitment": amount}}}


def recommendation(term: str) -> dict[str, Any]:
    """AWS's own answer (API_SavingsPlansPurchaseRecommendation.html), sized on the whole
    on-demand spend, before any right-sizing: a little above rightsizer's."""
    years = {"ONE_YEAR": "1yr", "THREE_YEARS": "3yr"}[term]
    hourly = {"1yr": "0.118", "3yr": "0.081"}[years]
    monthly = {"1yr": "21.40", "3yr": "48.20"}[years]
    percent = {"1yr": "19.8", "3yr": "44.6"}[years]
    return {
        "Metadata": {"RecommendationId": f"demo-{years}",
                     "GenerationTimestamp": "2026-11-30T00:00:00Z"},
        "SavingsPlansPurchaseRecommendation": {
            "AccountScope": "PAYER", "SavingsPlansType": "COMPUTE_SP", "TermInYears": term,
            "PaymentOption": "NO_UPFRONT", "LookbackPeriodInDays": "THIRTY_DAYS",
            "SavingsPlansPurchaseRecommendationDetails": [],
            "SavingsPlansPurchaseRecommendationSummary": {
                "CurrencyCode": "USD", "HourlyCommitmentToPurchase": hourly,
                "EstimatedMonthlySavingsAmount": monthly,
                "EstimatedSavingsPercentage": percent, "TotalRecommendationCount": "1"},
        },
    }


def offering_rates() -> dict[str, Any]:
    """DescribeSavingsPlansOfferingRates for Fargate in the demo region
    (https://docs.aws.amazon.com/savingsplans/latest/APIReference/API_DescribeSavingsPlansOfferingRates.html)."""
    rates = pricing.fargate_platform_rates(DEMO_REGION)
    assert rates is not None
    results = []
    for term, seconds in (("1yr", 31536000), ("3yr", 94608000)):
        keep = 1 - float(embedded_discounts()["fargate_discount"][term])
        for usage, usd in ((f"{USAGE_PREFIX}-Fargate-vCPU-Hours:perCPU", rates.vcpu.usd),
                           (f"{USAGE_PREFIX}-Fargate-GB-Hours", rates.gb.usd)):
            results.append({
                "savingsPlanOffering": {"offeringId": f"demo-{term}", "paymentOption":
                                        "No Upfront", "planType": "Compute",
                                        "durationSeconds": seconds, "currency": "USD",
                                        "planDescription": f"{term} No Upfront Compute"},
                "rate": f"{usd * keep:.6f}", "unit": "Hrs", "productType": "Fargate",
                "serviceCode": "AmazonECS", "usageType": usage, "operation": "",
                "properties": [{"name": "region", "value": DEMO_REGION}],
            })
    return {"searchResults": results}


def request_body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("body") or b"{}"
    try:
        return json.loads(body if isinstance(body, str) else body.decode())
    except ValueError:
        return {}
