"""The Savings Plans reads (collectors/savings_plans.py) as the compute-savings-plan rule uses
them: the hourly on-demand spend series, the existing plans' coverage and utilization, AWS's
recommendation, and the Compute Savings Plans discount for Fargate in a region."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rightsizer import pricing
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

TERMS = ("1yr", "3yr")
_TERM_SECONDS = {31536000: "1yr", 94608000: "3yr"}
_RECOMMENDATION_TERMS = {"ONE_YEAR": "1yr", "THREE_YEARS": "3yr"}
_EMBEDDED = Path(__file__).resolve().parents[2] / "pricing" / "data" / "compute_savings_plans.json"


@cache
def embedded_discounts() -> dict[str, Any]:
    return json.loads(_EMBEDDED.read_text())


def _amount(value: Any) -> float | None:
    """Cost Explorer amounts are strings ("12.5"); anything else is None, never a guess."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def is_fargate_compute(usage_type: str) -> bool:
    """Fargate vCPU and memory hours billed on-demand: what a Compute Savings Plan covers
    (ephemeral storage and the Windows licence are not; Spot usage is never committed)."""
    text = usage_type.lower()
    return "fargate" in text and ("vcpu-hours" in text or "gb-hours" in text) \
        and "spot" not in text and "ephemeralstorage" not in text


def is_lambda_compute(usage_type: str) -> bool:
    text = usage_type.lower()
    return "lambda" in text and "gb-second" in text


@dataclass
class SavingsPlansView:
    account: str
    fargate_hourly: dict[str, float] = field(default_factory=dict)  # hour start -> USD
    lambda_hourly: dict[str, float] = field(default_factory=dict)
    hourly_unavailable: str = ""  # why Cost Explorer had no hourly data
    coverage_percent: float | None = None
    on_demand_cost: float | None = None
    utilization_percent: float | None = None
    unused_commitment: float | None = None
    recommendation: dict[str, dict[str, float | None]] = field(default_factory=dict)
    # (term, region) -> (vCPU-hour rate, GB-hour rate) from DescribeSavingsPlansOfferingRates
    rates: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)


def _hourly(view: SavingsPlansView, page: dict[str, Any]) -> None:
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ResultByTime.html
    for period in page.get("ResultsByTime") or []:
        start = str((period.get("TimePeriod") or {}).get("Start") or "")
        if not start:
            continue
        view.fargate_hourly.setdefault(start, 0.0)
        for group in period.get("Groups") or []:
            keys = group.get("Keys") or [""]
            amount = _amount(((group.get("Metrics") or {}).get("UnblendedCost") or {})
                             .get("Amount"))
            if amount is None:
                continue
            if is_fargate_compute(str(keys[0])):
                view.fargate_hourly[start] += amount
            elif is_lambda_compute(str(keys[0])):
                view.lambda_hourly[start] = view.lambda_hourly.get(start, 0.0) + amount


def _coverage(view: SavingsPlansView, page: dict[str, Any]) -> None:
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_SavingsPlansCoverage.html
    covered = on_demand = 0.0
    for item in page.get("SavingsPlansCoverages") or []:
        data = item.get("Coverage") or {}
        covered += _amount(data.get("SpendCoveredBySavingsPlans")) or 0.0
        on_demand += _amount(data.get("OnDemandCost")) or 0.0
    total = covered + on_demand
    view.on_demand_cost = (view.on_demand_cost or 0.0) + on_demand
    if total:
        view.coverage_percent = round(100 * covered / total, 1)


def _utilization(view: SavingsPlansView, page: dict[str, Any]) -> None:
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_SavingsPlansUtilization.html
    total = (page.get("Total") or {}).get("Utilization") or {}
    view.utilization_percent = _amount(total.get("UtilizationPercentage"))
    view.unused_commitment = _amount(total.get("UnusedCommitment"))


def _recommendation(view: SavingsPlansView, page: dict[str, Any]) -> None:
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_SavingsPlansPurchaseRecommendation.html
    body = page.get("SavingsPlansPurchaseRecommendation") or {}
    term = _RECOMMENDATION_TERMS.get(str(body.get("TermInYears") or ""))
    summary = body.get("SavingsPlansPurchaseRecommendationSummary") or {}
    if term is None or not summary:
        return
    view.recommendation[term] = {
        "hourly_commitment_usd": _amount(summary.get("HourlyCommitmentToPurchase")),
        "estimated_monthly_savings_usd": _amount(summary.get("EstimatedMonthlySavingsAmount")),
        "estimated_savings_percent": _amount(summary.get("EstimatedSavingsPercentage")),
    }


def _rates(view: SavingsPlansView, page: dict[str, Any]) -> None:
    # https://docs.aws.amazon.com/savingsplans/latest/APIReference/API_SavingsPlanOfferingRate.html
    for item in page.get("searchResults") or []:
        offering = item.get("savingsPlanOffering") or {}
        term = _TERM_SECONDS.get(int(offering.get("durationSeconds") or 0))
        rate = _amount(item.get("rate"))
        usage = str(item.get("usageType") or "")
        region = next((str(prop.get("value")) for prop in item.get("properties") or []
                       if prop.get("name") == "region"), "")
        if term is None or rate is None or not region or not is_fargate_compute(usage):
            continue
        kind = "vcpu_hour" if "vcpu" in usage.lower() else "gb_hour"
        if "arm" in usage.lower():
            kind = f"arm_{kind}"
        view.rates.setdefault((term, region), {})[kind] = rate


_READERS = {"hourly_spend": _hourly, "coverage": _coverage, "utilization": _utilization,
            "recommendation": _recommendation, "offering_rates": _rates}


def savings_plans_views(snapshot: Snapshot) -> dict[str, SavingsPlansView]:
    return snapshot.derived("savings-plans", _views)


def _views(snapshot: Snapshot) -> dict[str, SavingsPlansView]:
    views: dict[str, SavingsPlansView] = {}
    for row in records(snapshot.table("sp_insights")):
        account = str(row["account"])
        view = views.setdefault(account, SavingsPlansView(account))
        data = decode_json_cell(row.get("data"), {})
        if not isinstance(data, dict):
            continue
        kind = str(row.get("kind"))
        if kind == "hourly_unavailable":
            view.hourly_unavailable = str(data.get("message") or "hourly data unavailable")
        elif kind in _READERS:
            _READERS[kind](view, data)
    return views


@dataclass(frozen=True)
class Discount:
    fraction: float
    source: str


def fargate_discount(view: SavingsPlansView | None, region: str, term: str) -> Discount | None:
    """The share a Compute Savings Plan takes off Linux/x86 on-demand Fargate in `region`:
    AWS's offering rates against the on-demand rates where both are known, else the embedded
    estimate."""
    rates = view.rates.get((term, region)) if view is not None else None
    on_demand = pricing.fargate_platform_rates(region)
    if rates and on_demand is not None and "vcpu_hour" in rates and "gb_hour" in rates:
        vcpu = 1 - rates["vcpu_hour"] / on_demand.vcpu.usd
        gb = 1 - rates["gb_hour"] / on_demand.gb.usd
        if 0 < vcpu < 1 and 0 < gb < 1:
            # the mean of the two: both discounts are close on AWS's rate cards
            return Discount((vcpu + gb) / 2, (
                f"savingsplans:DescribeSavingsPlansOfferingRates ({term} No Upfront, {region}: "
                f"${rates['vcpu_hour']}/vCPU-hour, ${rates['gb_hour']}/GB-hour) against "
                f"on-demand {on_demand.vcpu.source}"))
    table = embedded_discounts()
    fraction = table["fargate_discount"].get(term)
    if fraction is None:
        return None
    return Discount(float(fraction), f"{table['source']} (as of {table['as_of']})")
